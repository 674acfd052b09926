/** The logger the registry engine writes to (a pino logger fits); silent by default. */
export interface Logger {
  debug(o: object, msg?: string): void;
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export const noopLogger: Logger = { debug() {}, info() {}, warn() {} };
