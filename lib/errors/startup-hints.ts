/** What to do about errors other libraries raise while an application starts, by their message. */
const HINTS: ReadonlyArray<[RegExp, string]> = [
  [
    /No entities found, please use `entities` option/,
    'MikroORM found no entities. With `autoLoadEntities: true`, each feature module registers its own: add ' +
      '`MikroOrmModule.forFeature([Post])` (your entities) to the imports of the module that declares the service; ' +
      'or list them in the `entities` option of MikroOrmModule.forRoot().',
  ],
  [
    /No address added out of total \d+ resolved|EADDRINUSE/,
    'Another process probably listens on that address. Choose another one with the `url` option of ' +
      'GrpcFrameworkModule.forRoot() or `grpc-framework runserver <host:port>`, or stop the other server.',
  ],
];

/** The error with a line saying how to fix it, when its cause is a common set-up mistake. */
export function withStartupHint(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const hint = HINTS.find(([pattern]) => pattern.test(error.message))?.[1];
  if (!hint || error.message.includes(hint)) return error;
  error.message = `${error.message}\n${hint}`;
  return error;
}

/** How to make an entity known to MikroORM, naming the module that should register it when known. */
export function registerEntityHint(entity: string, moduleName?: string): string {
  const where = moduleName ? `the imports of ${moduleName}` : "the imports of the service's module";
  return (
    `Register it with \`MikroOrmModule.forFeature([${entity}])\` in ${where} (with \`autoLoadEntities: true\`), ` +
    'or add it to the `entities` of MikroOrmModule.forRoot().'
  );
}
