// (family file; ops are registered on import)
export {};
