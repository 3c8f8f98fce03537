/** `host:port` (or `[::1]:port`) split for `listen()`: the host without brackets, the port as a number (0 picks one). */
export function hostAndPort(url: string): { host: string; port: number } {
  const colon = url.lastIndexOf(':');
  return { host: url.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(url.slice(colon + 1)) };
}
