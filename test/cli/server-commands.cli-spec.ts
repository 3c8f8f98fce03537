import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { MikroORM } from '@mikro-orm/core';
import { Post } from '../../sample/blog/post.entity';
import { clientPackage, makeClient, unary, GrpcClient } from '../utils/sample-app';
import { announced, CLI, runserver } from '../utils/runserver';

// Each test starts real server processes that compile the sample's TypeScript: allow for a busy machine.
jest.setTimeout(90000);

const ROOT = path.join(__dirname, '..', '..');
const SAMPLE_MODULE = `${path.join(ROOT, 'sample', 'app.module.ts')}:AppModule`;
const MISTAKES = path.join(ROOT, 'test', 'fixtures', 'mistakes.app.ts');

/** Waits until the server answers (a cluster's workers may still be starting after the banner). */
async function ready(client: GrpcClient): Promise<void> {
  const until = Date.now() + 40000;
  for (;;) {
    try {
      await unary(client, 'Retrieve', { id: 0 });
      return;
    } catch (error) {
      if ((error as grpc.ServiceError).code === status.NOT_FOUND) return;
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('grpc-framework check', () => {
  const check = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, 'check', ...args], { cwd: ROOT });

  it('passes a correct application', async () => {
    const { stdout } = await check('--module', SAMPLE_MODULE);
    expect(stdout).toMatch(/System check identified no issues\.\n$/);
    // Per service and action, the path it takes, and why not a faster one.
    expect(stdout).toContain('blog_proto.PostController (PostService)\n    List: reads columns straight into messages\n');
    expect(stdout).toContain(
      '    Create: one statement, without a transaction (an INSERT compiled once, from the validated data without a managed entity)\n',
    );
    expect(stdout).toContain(
      'account.UserController (UserService)\n    List: loads entities (UserProtoSerializer sends collections (groups))\n',
    );
    expect(stdout).toContain(
      "    Create: one flush, in MikroORM's transaction (UserProtoSerializer writes collections (groups), rows of their own)\n",
    );
    expect(stdout).toContain('    Create: in a transaction (BookSerializer writes nested objects (author), rows of their own)\n');
  });

  it('lists every problem with file, service, rpc and field, and exits 1', async () => {
    const error = await check('--module', 'test/fixtures/broken-app.module.ts:BrokenAppModule').catch((e) => e);
    expect(error.code).toBe(1);
    expect(error.stderr).toContain('mismatch.proto): serializer PostProtoSerializer field "content" is not in message mismatch.Post');
    expect(error.stderr).toContain('field "title": a string property cannot travel as int32');
    expect(error.stderr).toContain('MismatchPostService (mismatch.PostController.List');
  });

  it('never changes the database, and names the forFeature a model service needs', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'check-'));
    const file = path.join(cwd, 'library.sqlite3');
    const orm = await MikroORM.init({ driver: BetterSqliteDriver, dbName: file, entities: [Post], allowGlobalContext: true });
    const connection = orm.em.getConnection();
    await connection.execute('create table book (id integer primary key, title varchar(100))');
    await connection.execute("insert into book (id, title) values (1, 'Dune')");
    await orm.close();
    const tables = async () => {
      const reader = await MikroORM.init({ driver: BetterSqliteDriver, dbName: file, entities: [Post], allowGlobalContext: true });
      try {
        const connection = reader.em.getConnection();
        return {
          tables: await connection.execute("select name from sqlite_master where type = 'table' order by name"),
          books: await connection.execute('select * from book'),
        };
      } finally {
        await reader.close();
      }
    };
    const before = await tables();
    const error = await promisify(execFile)(process.execPath, [CLI, 'check', '--module', `${MISTAKES}:ForgottenFeatureAppModule`], {
      cwd,
    }).catch((e) => e);
    expect(error.code).toBe(1);
    expect(error.stderr).toContain(
      'BookService: entity Book is not known to MikroORM. Register it with `MikroOrmModule.forFeature([Book])` in the imports of LibraryModule',
    );
    // The app's schema set-up (an onModuleInit hook) did not run: nothing was created or dropped.
    expect(await tables()).toEqual(before);
    expect(before.books).toEqual([{ id: 1, title: 'Dune' }]);
    fs.rmSync(cwd, { recursive: true });
  });

  it("adds the fix to MikroORM's 'No entities found'", async () => {
    const error = await check('--module', `${path.join(ROOT, 'test', 'fixtures', 'no-entities.app.ts')}:NoEntitiesAppModule`).catch(
      (e) => e,
    );
    expect(error.code).toBe(1);
    expect(error.stderr).toContain('No entities found');
    expect(error.stderr).toContain(
      'add `MikroOrmModule.forFeature([Post])` (your entities) to the imports of the module that declares the service',
    );
  });

  it('names a controller decorated with GrpcService from @nestjs/microservices', async () => {
    const error = await check('--module', `${MISTAKES}:NestDecoratedAppModule`).catch((e) => e);
    expect(error.code).toBe(1);
    expect(error.stderr).toContain('NestDecoratedPostService has methods named after the rpcs of blog_proto.PostController');
    expect(error.stderr).toContain("decorate it with @GrpcModelService('blog_proto.PostController')");
  });

  it('says what to install when the TypeScript found cannot load .ts modules (TypeScript 7)', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'check-ts7-'));
    // TypeScript 7's package as npm installs it: a native compiler, its main export only a version.
    const typescript = path.join(cwd, 'node_modules', 'typescript');
    fs.mkdirSync(typescript, { recursive: true });
    fs.writeFileSync(path.join(typescript, 'package.json'), JSON.stringify({ name: 'typescript', version: '7.0.2', main: 'version.cjs' }));
    fs.writeFileSync(path.join(typescript, 'version.cjs'), "module.exports = { version: '7.0.2' };\n");
    fs.writeFileSync(
      path.join(cwd, 'app.module.ts'),
      `export { AppModule } from ${JSON.stringify(path.join(ROOT, 'sample', 'app.module'))};\n`,
    );
    const error = await promisify(execFile)(process.execPath, [CLI, 'check', '--module', 'app.module.ts:AppModule'], { cwd }).catch(
      (e) => e,
    );
    expect(error.code).toBe(1);
    expect(error.stderr).toContain("Loading app.module.ts needs TypeScript's JavaScript API, which typescript 7.0.2 does not have");
    expect(error.stderr).toContain('npm i -D typescript@5');
    expect(error.stderr).not.toContain('CommonJS');
    fs.rmSync(cwd, { recursive: true });
  });

  it('asks for the module when none is configured', async () => {
    const error = await promisify(execFile)(process.execPath, [CLI, 'check'], { cwd: os.tmpdir() }).catch((e) => e);
    expect(error.stderr).toContain('Pass --module src/app.module.ts:AppModule');
  });
});

describe('grpc-framework runserver', () => {
  it("serves mutual TLS with --tls-cert, --tls-key and --tls-client-ca, and names a key that is not the certificate's", async () => {
    const tls = (name: string) => path.join(ROOT, 'test', 'fixtures', 'tls', name);
    const server = await runserver([
      '127.0.0.1:0',
      '--module',
      SAMPLE_MODULE,
      '--tls-cert',
      tls('server.crt'),
      '--tls-key',
      tls('server.key'),
      '--tls-client-ca',
      tls('ca.crt'),
    ]);
    const ctor = (clientPackage() as unknown as { blog_proto: { PostController: typeof grpc.Client } }).blog_proto.PostController;
    const pem = (name: string) => fs.readFileSync(tls(name));
    const options = { 'grpc.ssl_target_name_override': 'localhost' };
    const mutual = new ctor(
      server.address,
      grpc.credentials.createSsl(pem('ca.crt'), pem('client.key'), pem('client.crt')),
      options,
    ) as GrpcClient;
    const anonymous = new ctor(server.address, grpc.credentials.createSsl(pem('ca.crt')), options) as GrpcClient;
    try {
      await ready(mutual);
      await expect(unary(anonymous, 'Retrieve', { id: 0 }, new grpc.Metadata(), { deadline: Date.now() + 3000 })).rejects.toMatchObject({
        code: status.UNAVAILABLE,
      });
    } finally {
      mutual.close();
      anonymous.close();
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);

    const wrong = await promisify(execFile)(
      process.execPath,
      [CLI, 'runserver', '127.0.0.1:0', '--module', SAMPLE_MODULE, '--tls-cert', tls('server.crt'), '--tls-key', tls('client.key')],
      { cwd: ROOT },
    ).then(
      () => ({ stderr: '' }),
      (error: { stderr: string }) => error,
    );
    expect(wrong.stderr).toContain(`the key in ${tls('client.key')} does not match the certificate in ${tls('server.crt')}`);
  });

  it('serves, refuses new calls on SIGTERM, lets an in-flight List finish, and exits 0', async () => {
    const server = await runserver(['127.0.0.1:0', '--module', SAMPLE_MODULE, '--grace-period', '4000']);
    const posts = makeClient(server.address, 'blog_proto.PostController');
    const ROWS = 1500;
    for (let i = 0; i < ROWS; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => unary(posts, 'Create', { title: `t${i + j}`, content: 'c' })));
    }
    const stream: grpc.ClientReadableStream<{ title: string }> = posts.List({});
    const received: string[] = [];
    const ended = new Promise<grpc.StatusObject | Error>((resolve) => {
      stream.on('status', resolve);
      stream.on('error', resolve);
    });
    await new Promise<void>((resolve) => {
      stream.on('data', (post: { title: string }) => {
        received.push(post.title);
        if (received.length === 10) {
          stream.pause();
          resolve();
        }
      });
    });
    server.child.kill('SIGTERM');
    // New calls are refused once the signal has been handled (a call just before it is still served).
    const late = makeClient(server.address, 'blog_proto.PostController');
    let lateCall: grpc.ServiceError | undefined;
    for (const until = Date.now() + 10_000; Date.now() < until;) {
      lateCall = await unary(late, 'Retrieve', { id: 1 }).then(
        () => undefined,
        (error: grpc.ServiceError) => error,
      );
      if (lateCall?.code === status.UNAVAILABLE) break;
    }
    expect(lateCall).toMatchObject({ code: status.UNAVAILABLE });
    late.close();
    stream.resume();
    const outcome = await ended;
    expect(received).toHaveLength(ROWS); // finished within the grace period
    expect(outcome).toMatchObject({ code: status.OK });
    expect(await server.exited).toBe(0);
    posts.close();
    const orm = await MikroORM.init({ driver: BetterSqliteDriver, dbName: path.join(server.cwd, 'sample.sqlite3'), entities: [Post] });
    expect(await orm.em.fork().count(Post)).toBe(ROWS);
    await orm.close();
  });

  it('cancels calls still running when the grace period ends', async () => {
    const server = await runserver(['127.0.0.1:0', '--module', SAMPLE_MODULE, '--grace-period', '300']);
    const posts = makeClient(server.address, 'blog_proto.PostController');
    // Far more than HTTP/2's flow-control windows hold, so the server cannot finish the stream alone.
    const content = 'x'.repeat(4000);
    for (let i = 0; i < 1000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => unary(posts, 'Create', { title: `t${i + j}`, content })));
    }
    const stream: grpc.ClientReadableStream<unknown> = posts.List({});
    const ended = new Promise<grpc.ServiceError | grpc.StatusObject>((resolve) => {
      stream.on('error', resolve);
      stream.on('status', resolve);
    });
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.pause(); // a client that stops reading cannot hold the server up
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    stream.resume();
    expect((await ended).code).not.toBe(status.OK);
    posts.close();
  });

  it('also serves gRPC-Web and Connect on --web, and closes that listener on SIGTERM', async () => {
    const server = await runserver(['127.0.0.1:0', '--module', SAMPLE_MODULE, '--web', '127.0.0.1:0', '--grace-period', '20000']);
    const webAddress = announced(server.output(), 'web');
    expect(webAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    const response = await fetch(`http://${webAddress}/blog_proto.PostController/Create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Over the web', content: 'from runserver' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ title: 'Over the web' });
    // The keep-alive connection fetch holds open does not hold the shutdown up for the grace period.
    const stopping = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10000);
  });

  it('runs N worker processes on one port', async () => {
    const server = await runserver(['127.0.0.1:0', '--module', SAMPLE_MODULE, '--workers', '2']);
    expect(server.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/); // the port the workers share
    const workers = fs
      .readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(server.child.pid);
        } catch {
          return false;
        }
      });
    expect(workers).toHaveLength(2);
    const posts = makeClient(server.address, 'blog_proto.PostController');
    await ready(posts);
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => unary(posts, 'Create', { title: `w${i}`, content: 'c' })));
    expect(new Set(created.map((p) => p.id)).size).toBe(20);
    posts.close();
    server.child.kill('SIGTERM');
    const code = await server.exited;
    if (code !== 0) console.log(server.output());
    expect(code).toBe(0);
  });

  it('restarts on source changes with --dev: saves by rename, and once per write however it is split', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'runserver-dev-'));
    const moduleFile = path.join(cwd, 'app.module.ts');
    const source = `export { AppModule } from ${JSON.stringify(path.join(ROOT, 'sample', 'app.module'))};\n`;
    fs.writeFileSync(moduleFile, source);
    const server = await runserver(['127.0.0.1:0', '--module', 'app.module.ts:AppModule', '--dev'], cwd);
    // Port 0: each restart listens on a port of its own, which its banner names.
    let posts = makeClient(server.address, 'blog_proto.PostController');
    await ready(posts);
    const restarts = () => server.output().split('changed, restarting.').length - 1;
    const restarted = async (count: number) => {
      const until = Date.now() + 40000;
      const serving = new RegExp(`(changed, restarting\\.[\\s\\S]*){${count}}Quit the server with CONTROL-C\\.`);
      while (!serving.test(server.output())) {
        if (Date.now() > until) throw new Error(`no restart number ${count}:\n${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      posts.close();
      posts = makeClient(announced(server.output()), 'blog_proto.PostController');
      await ready(posts);
    };
    fs.appendFileSync(moduleFile, '// changed\n');
    await restarted(1);
    // Saved by rename, as atomic-save editors, `sed -i` and `git checkout` do: twice, so the
    // watcher must still see the file that replaced the first one.
    for (const [count, note] of [
      [2, 'renamed once'],
      [3, 'renamed twice'],
    ] as const) {
      fs.writeFileSync(`${moduleFile}.tmp`, `${source}// ${note}\n`);
      fs.renameSync(`${moduleFile}.tmp`, moduleFile);
      await restarted(count);
    }
    // A write in two pieces, the first not valid TypeScript on its own: one restart, after the second.
    const half = Math.floor(source.length / 2);
    fs.writeFileSync(moduleFile, source.slice(0, half));
    // The editor's pause between the pieces (shorter than the reloader's settle time).
    await new Promise((resolve) => setTimeout(resolve, 60));
    fs.appendFileSync(moduleFile, source.slice(half));
    await restarted(4);
    // No restart follows the split write: the next one is for a file changed after it.
    fs.writeFileSync(path.join(cwd, 'later.ts'), 'export {};\n');
    await restarted(5);
    expect(restarts()).toBe(5);
    expect(
      server
        .output()
        .match(/(\S+) changed, restarting\./g)!
        .at(-1),
    ).toBe('later.ts changed, restarting.');
    expect(server.output()).not.toMatch(/error/i);
    await expect(unary(posts, 'Create', { title: 'after reload', content: 'c' })).resolves.toMatchObject({ title: 'after reload' });
    posts.close();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
