// Typed arrays use the host's byte order and .kiln files are little-endian; every current JS
// host is little-endian, so rather than swap bytes we refuse clearly on the odd one that is not.
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export function requireLittleEndian(what: string): void {
  if (!LITTLE_ENDIAN) throw new Error(`${what}: .kiln files are little-endian and this host is big-endian`);
}
