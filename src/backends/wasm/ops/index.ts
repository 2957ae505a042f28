// (kernel families register themselves on import)
export {};
