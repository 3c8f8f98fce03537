import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Where commands find the application module: `--module path:Export`, else `module` in
 * `grpc-framework.json`, else the `grpc-framework.module` field of package.json.
 */
export function appModuleReference(flag: string | undefined, cwd = process.cwd()): string {
  if (flag) return flag;
  const configFile = path.join(cwd, 'grpc-framework.json');
  if (fs.existsSync(configFile)) {
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as { module?: string };
    if (config.module) return config.module;
  }
  const packageFile = path.join(cwd, 'package.json');
  if (fs.existsSync(packageFile)) {
    const pkg = JSON.parse(fs.readFileSync(packageFile, 'utf8')) as { 'grpc-framework'?: { module?: string } };
    if (pkg['grpc-framework']?.module) return pkg['grpc-framework'].module;
  }
  throw new Error(
    'Which application module should run? Pass --module src/app.module.ts:AppModule, or write ' +
      '{ "module": "src/app.module.ts:AppModule" } to grpc-framework.json.',
  );
}
