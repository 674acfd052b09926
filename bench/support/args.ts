/** `--name VALUE` from this process's arguments, or `dflt` when it is absent or has no value. */
export function benchOption(name: string, dflt: string): string {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
}
