/**
 * Type-level tools that tie CONFIG_SCHEMA to FerryConfig (see the end of
 * schema.ts): `FromSchema` reads a const JSON Schema as the TypeScript type
 * of the values it accepts, and `Mismatch` names every key path where two
 * types differ. Only the keywords CONFIG_SCHEMA uses are read (type, enum,
 * properties, required, additionalProperties, items); the others (patterns,
 * bounds, oneOf) constrain values, not shapes.
 *
 * Why not ajv's `JSONSchemaType<T>`: it demands `nullable: true` on every
 * optional key and a `type` beside every `enum`, and both change what the
 * schema accepts (null) or the problems it reports, so the schema could not
 * stay as it is.
 */

type Flatten<T> = { -readonly [K in keyof T]: T[K] };

type PropsOf<P, Required extends PropertyKey> = Flatten<
  { -readonly [K in keyof P & Required]-?: FromSchema<P[K]> } & { -readonly [K in Exclude<keyof P, Required>]?: FromSchema<P[K]> }
>;

type RequiredOf<S> = S extends { required: readonly (infer R extends PropertyKey)[] } ? R : never;

/** The type of a value the JSON Schema `S` (declared `as const`) accepts. */
export type FromSchema<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { type: 'string' }
    ? string
    : S extends { type: 'integer' | 'number' }
      ? number
      : S extends { type: 'boolean' }
        ? boolean
        : S extends { type: 'array'; items: infer I }
          ? FromSchema<I>[]
          : S extends { type: 'object'; properties: infer P }
            ? PropsOf<P, RequiredOf<S>>
            : S extends { type: 'object'; additionalProperties: infer A extends object }
              ? { [key: string]: FromSchema<A> }
              : unknown;

/**
 * The config file as FerryConfig describes it: every key of a section
 * optional, at any depth (DEFAULTS fills the rest, merged key by key), but a
 * list replaces the default whole, so its items stay complete (a block rule
 * needs its reason), and a record's values are given whole.
 */
export type FileShape<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? string extends keyof T
      ? { [key: string]: FileShape<T[string]> }
      : { [K in keyof T]?: FileShape<T[K]> }
    : T;

/** Exactly the same type (optional, readonly and `undefined` included). */
export type Same<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

type Keys<T> = Exclude<keyof T, symbol | number> & string;
type IsOptional<T> = undefined extends T ? true : false;

/**
 * Each key path where A and B differ, as "path: how": `never` when they are
 * the same. Lists descend as `path[]`, records as `path.*`.
 */
export type Mismatch<A, B, Path extends string = 'config'> =
  Same<A, B> extends true
    ? never
    : Same<IsOptional<A>, IsOptional<B>> extends true
      ? Differ<Exclude<A, undefined>, Exclude<B, undefined>, Path>
      : `${Path}: optional in one, required in the other`;

type Differ<A, B, Path extends string> = [A, B] extends [readonly (infer X)[], readonly (infer Y)[]]
  ? Mismatch<X, Y, `${Path}[]`>
  : [A, B] extends [object, object]
    ? string extends keyof A | keyof B
      ? Mismatch<A[keyof A & string], B[keyof B & string], `${Path}.*`>
      : OrSelf<ObjectMismatch<A, B, Path>, Path>
    : `${Path}: the types differ`;

type ObjectMismatch<A, B, Path extends string> = {
  [K in Keys<A> | Keys<B>]: K extends keyof A
    ? K extends keyof B
      ? Mismatch<A[K], B[K], `${Path}.${K}`>
      : `${Path}.${K}: in types.ts, not in CONFIG_SCHEMA`
    : `${Path}.${K}: in CONFIG_SCHEMA, not in types.ts`;
}[Keys<A> | Keys<B>];

/** Every key alike but the objects not: a modifier differs (readonly, or `?` on a key that allows undefined anyway). */
type OrSelf<Found, Path extends string> = [Found] extends [never] ? `${Path}: a key's modifiers differ` : Found;

/** Compiles only when `M` is `never`; otherwise tsc prints the mismatched paths. */
export type NoMismatch<M extends never> = M;
