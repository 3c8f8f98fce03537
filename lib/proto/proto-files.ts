import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { getProtoPath } from 'google-proto-files';
import { ImproperlyConfiguredError } from '../errors/improperly-configured.error';

/** Where `google/api/*.proto`, `google/rpc/*.proto`, `google/type/*.proto` and the rest of Google's protos are found. */
export const GOOGLE_PROTOS_ROOT = path.dirname(getProtoPath());

/** A proto file to load, and, when it has a canonical import path of its own, that name. */
export interface ProtoSource {
  file: string;
  name?: string;
}

/**
 * The one rule for finding proto files, used for serving, reflection and the testing
 * toolkit alike:
 *
 * - a `protoPath` entry is an absolute path, a path relative to the working directory, or a
 *   path relative to one of `includeDirs`;
 * - an import is looked up beside the importing file, then in each of `includeDirs`, then in
 *   the working directory, then among Google's common protos (`google/api`, `google/rpc`,
 *   `google/type`, ...); `google/protobuf/*.proto` are built in.
 *
 * A file is named by the path it was imported as, else by its path relative to the include
 * directory (or working directory) holding it, as protoc names files.
 */
export class ProtoFileResolver {
  private readonly importNames = new Map<string, string>();
  private readonly givenNames = new Map<string, string>();
  private readonly includeDirs: readonly string[];
  /** Where imports are looked up after the importing file's own folder. */
  private readonly roots: readonly string[];

  constructor(
    includeDirs: readonly string[],
    private readonly cwd: string = process.cwd(),
  ) {
    this.includeDirs = includeDirs.map((dir) => path.resolve(cwd, dir));
    this.roots = [...this.includeDirs, cwd, GOOGLE_PROTOS_ROOT];
  }

  /** The absolute path of a `protoPath` entry. */
  resolveSource(source: ProtoSource): string {
    const { file } = source;
    const candidates = path.isAbsolute(file) ? [file] : [this.cwd, ...this.includeDirs].map((root) => path.resolve(root, file));
    const found = candidates.find((candidate) => existsSync(candidate));
    if (!found) {
      throw new ImproperlyConfiguredError(
        `GrpcFrameworkModule: proto file "${file}" was not found (looked in ${[this.cwd, ...this.includeDirs].join(', ')}). ` +
          'Give `protoPath` relative to the working directory, as an absolute path, or relative to one of `loader.includeDirs`.',
      );
    }
    if (source.name) this.givenNames.set(found, source.name);
    return found;
  }

  /** The absolute path of an import written in `origin`; remembers the import path as the file's name. */
  resolveImport(origin: string, target: string): string {
    if (path.isAbsolute(target)) return target;
    const places = [path.dirname(origin), ...this.roots];
    const found = places.map((place) => path.resolve(place, target)).find((candidate) => existsSync(candidate));
    if (!found) {
      throw new ImproperlyConfiguredError(
        `import "${target}" in ${origin} was not found (looked in ${places.join(', ')}). ` +
          'Add the folder the import path is relative to to `loader.includeDirs`.',
      );
    }
    if (!this.importNames.has(found)) this.importNames.set(found, target.split(path.sep).join('/'));
    return found;
  }

  /** The name a loaded file is known by in descriptors. */
  nameOf(file: string): string {
    const absolute = path.resolve(this.cwd, file);
    const known = this.givenNames.get(absolute) ?? this.importNames.get(absolute);
    if (known) return known;
    for (const root of this.roots) {
      const relative = path.relative(root, absolute);
      if (!relative.startsWith('..') && !path.isAbsolute(relative)) return relative.split(path.sep).join('/');
    }
    return path.basename(absolute);
  }
}
