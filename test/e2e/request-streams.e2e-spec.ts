import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { status } from '@grpc/grpc-js';
import { EntityManager } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { CallContext, GrpcModelService, ProtoMessage, RequestStream } from 'nestjs-grpc-framework';
import { MakerDraftSerializer, MakerStreamsService } from '../fixtures/pipeline/streaming-examples';
import { Maker } from '../fixtures/gadgets/gadget.entity';
import { gadgetProtos, startGadgetApp } from '../utils/gadget-app';
import { badRequestOf } from '../utils/status-details';
import { Served, serveTwice } from '../utils/served-twice';
import { startSample } from '../utils/sample-app';
import { Book } from '../../sample/bookstore/book.entity';

/** Holds Tally after its first message until a test opens it; records whether a call was cancelled while it waited. */
@Injectable()
class Gate {
  private open?: () => void;
  private waiting = Promise.resolve();
  cancelled = 0;
  close(): void {
    this.waiting = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
  }
  opened(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.cancelled++, { once: true });
    return this.waiting;
  }
  /**
   * Emits 'bulkMessage' as BulkCreate takes each message while `announceMessages` is set (the
   * messages are then not a RequestStream, whose sizes maxBulkBytes counts), and 'bulkEnded'
   * each time a BulkCreate call has ended, written or not.
   */
  announceMessages = false;
  readonly events = new EventEmitter();
}

/** The README's example, with a lower maxBulkItems and a hand-written client-streaming Tally. */
@GrpcModelService({ service: 'gadgets.StreamingMakerController', serializer: MakerDraftSerializer, maxBulkItems: 5, maxBulkBytes: 100 })
class StreamingMakerService extends MakerStreamsService {
  constructor(private readonly gate: Gate) {
    super();
  }

  override async BulkCreate(requests: AsyncIterable<ProtoMessage>): Promise<ProtoMessage> {
    const events = this.gate.events;
    const counted = async function* (): AsyncIterable<ProtoMessage> {
      for await (const request of requests) {
        events.emit('bulkMessage');
        yield request;
      }
    };
    try {
      return await super.BulkCreate(this.gate.announceMessages ? counted() : requests);
    } finally {
      this.gate.events.emit('bulkEnded');
    }
  }

  /** Takes the first maker, waits for the test to open the gate, then counts the rest. */
  async Tally(requests: RequestStream<{ name: string }>, context: CallContext): Promise<ProtoMessage> {
    let count = 0;
    for await (const _ of requests) {
      if (++count === 1) await this.gate.opened(context.signal);
    }
    return { count };
  }
}

type StreamingClient = grpc.Client & Record<string, Function>;

/** A client process that sends two makers to BulkCreate, says so, and waits to be killed. */
const DYING_CLIENT = `
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const [address, proto] = process.argv.slice(1);
const Client = grpc.loadPackageDefinition(loader.loadSync(proto)).gadgets.StreamingMakerController;
const call = new Client(address, grpc.credentials.createInsecure()).BulkCreate(() => {});
call.write({ name: 'Half' });
call.write({ name: 'Done' }, () => setTimeout(() => process.stdout.write('sent'), 20));
setInterval(() => {}, 1000);
`;

/** Calls a client-streaming rpc with `messages` and resolves with its response (or rejects with its error). */
function clientStream(client: StreamingClient, method: string, messages: readonly object[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const call = client[method]((error: grpc.ServiceError | null, response: Record<string, unknown>) =>
      error ? reject(error) : resolve(response),
    ) as grpc.ClientWritableStream<object>;
    for (const message of messages) call.write(message);
    call.end();
  });
}

const failure = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (error: grpc.ServiceError) => error,
  );

describe('client-streaming and bidi rpcs, over a socket and in process', () => {
  let served: Served;
  const gate = new Gate();
  const ems: EntityManager[] = [];

  beforeAll(async () => {
    served = await serveTwice([StreamingMakerService], {
      service: 'gadgets.StreamingMakerController',
      providers: [{ provide: Gate, useValue: gate }],
      seed: async (em) => void ems.push(em),
    });
  });
  afterAll(() => served.close());
  beforeEach(async () => {
    for (const em of ems) await em.fork().nativeDelete(Maker, {});
  });

  const both = ['socket', 'inProcess'] as const;
  const makersIn = (i: number) => ems[i].fork().find(Maker, {}, { orderBy: { id: 'asc' } });

  it.each(both.map((way, i) => [way, i] as const))('BulkCreate saves every message and answers with them (%s)', async (way, i) => {
    const response = await clientStream(served.clients[way], 'BulkCreate', [{ name: 'Acme' }, { name: 'Globex' }, { name: 'Initech' }]);
    const stored = await makersIn(i);
    expect(stored.map((m) => m.name)).toEqual(['Acme', 'Globex', 'Initech']);
    expect(response).toEqual({ makers: stored.map((m) => ({ id: m.id, name: m.name })) });
  });

  it.each(both.map((way, i) => [way, i] as const))(
    'BulkCreate names each invalid message by its place and writes nothing (%s)',
    async (way, i) => {
      const error = await failure(
        clientStream(served.clients[way], 'BulkCreate', [{ name: 'Fine' }, { name: '' }, { name: 'Fine too' }, { name: 'x'.repeat(51) }]),
      );
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(badRequestOf(error!).violations).toEqual([
        { field: 'items[1].name', description: 'This field may not be blank.', reason: 'INVALID' },
        { field: 'items[3].name', description: 'Ensure this field has no more than 50 characters.', reason: 'INVALID' },
      ]);
      expect(await makersIn(i)).toEqual([]);
    },
  );

  it.each(both.map((way, i) => [way, i] as const))(
    'BulkCreate refuses more than maxBulkItems messages and writes nothing (%s)',
    async (way, i) => {
      const error = await failure(
        clientStream(
          served.clients[way],
          'BulkCreate',
          Array.from({ length: 8 }, (_, n) => ({ name: `Maker ${n}` })),
        ),
      );
      expect({ code: error?.code, details: error?.details }).toEqual({
        code: status.RESOURCE_EXHAUSTED,
        details: 'A stream may send at most 5 messages (maxBulkItems); send the rest in another call.',
      });
      expect(await makersIn(i)).toEqual([]);
    },
  );

  it.each(both.map((way, i) => [way, i] as const))(
    'BulkCreate refuses more than maxBulkBytes of messages and writes nothing (%s)',
    async (way, i) => {
      const error = await failure(
        clientStream(
          served.clients[way],
          'BulkCreate',
          ['x', 'y', 'z'].map((c) => ({ name: c.repeat(45) })),
        ),
      );
      expect({ code: error?.code, details: error?.details }).toEqual({
        code: status.RESOURCE_EXHAUSTED,
        details: 'A stream may send at most 100 bytes of messages (maxBulkBytes); send the rest in another call.',
      });
      expect(await makersIn(i)).toEqual([]);
      // Past an invalid message nothing is held (the call fails anyway): the rest are only validated.
      const invalidFirst = await failure(
        clientStream(served.clients[way], 'BulkCreate', [{ name: '' }, ...['x', 'y', 'z'].map((c) => ({ name: c.repeat(45) }))]),
      );
      expect(badRequestOf(invalidFirst!).violations).toEqual([
        { field: 'items[0].name', description: 'This field may not be blank.', reason: 'INVALID' },
      ]);
    },
  );

  it.each(both.map((way, i) => [way, i] as const))(
    'a malformed message mid-stream is INVALID_ARGUMENT and writes nothing (%s)',
    async (way, i) => {
      // A client that sends raw bytes: two good messages around one that is not a MakerDraft.
      const Raw = grpc.makeGenericClientConstructor(
        {
          BulkCreate: {
            path: '/gadgets.StreamingMakerController/BulkCreate',
            requestStream: true,
            responseStream: false,
            requestSerialize: (b: Buffer) => b,
            requestDeserialize: (b: Buffer) => b,
            responseSerialize: (b: Buffer) => b,
            responseDeserialize: (b: Buffer) => b,
          },
        },
        'Raw',
      );
      const raw = new Raw('unused', grpc.credentials.createInsecure(), {
        channelOverride: (served.clients[way] as grpc.Client).getChannel(),
      }) as unknown as StreamingClient;
      const good = Buffer.from([0x12, 0x04, ...Buffer.from('Good')]); // name = "Good"
      const error = await failure(clientStream(raw, 'BulkCreate', [good, Buffer.from([0x12, 0x09, 0x41]), good]));
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      expect(error?.details).toMatch(/^Message 2 of the request stream is not a valid gadgets\.MakerDraft message: /);
      expect(await makersIn(i)).toEqual([]);
    },
  );

  // Over a socket, Node's HTTP/2 client ends its half of the stream before it resets it, so the
  // server may take a cancelled upload for a complete one; a client that goes away is unambiguous.
  it('a client process that dies mid-stream writes nothing (socket)', async () => {
    const address = served.clients.socket.getChannel().getTarget().replace(/^dns:/, '');
    const child = spawn(process.execPath, ['-e', DYING_CLIENT, address, gadgetProtos('gadget-streams.proto')[0]], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const ended = once(gate.events, 'bulkEnded');
    child.kill('SIGKILL');
    await ended; // the server has ended the dead client's call
    expect(await makersIn(0)).toEqual([]);
    await expect(clientStream(served.clients.socket, 'BulkCreate', [{ name: 'After' }])).resolves.toMatchObject({
      makers: [{ name: 'After' }],
    });
  });

  it('a client that cancels mid-stream writes nothing (inProcess)', async () => {
    gate.announceMessages = true;
    const call = served.clients.inProcess.BulkCreate(() => undefined) as grpc.ClientWritableStream<object>;
    call.on('error', () => undefined);
    const taken = new Promise<void>((resolve) => {
      let count = 0;
      const onMessage = () => {
        if (++count < 2) return;
        gate.events.off('bulkMessage', onMessage);
        resolve();
      };
      gate.events.on('bulkMessage', onMessage);
    });
    call.write({ name: 'Half' });
    call.write({ name: 'Done' });
    await taken; // both messages have reached the handler
    gate.announceMessages = false;
    const ended = once(gate.events, 'bulkEnded');
    call.cancel();
    await ended;
    expect(await makersIn(1)).toEqual([]);
    await expect(clientStream(served.clients.inProcess, 'BulkCreate', [{ name: 'After' }])).resolves.toMatchObject({
      makers: [{ name: 'After' }],
    });
  });

  it.each(both)('a handler that stops reading holds back its client: writes wait until it reads again (%s)', async (way) => {
    gate.close();
    let call!: grpc.ClientWritableStream<object>;
    const response = new Promise<Record<string, unknown>>((resolve, reject) => {
      call = served.clients[way].Tally((error: grpc.ServiceError | null, r: Record<string, unknown>) =>
        error ? reject(error) : resolve(r),
      );
    });
    const big = 'y'.repeat(1000);
    let written = 0;
    // Without backpressure every write would be taken at once; with it, write() soon says "wait".
    while (written < 5000 && call.write({ name: big })) written++;
    written++; // the write that said "wait" was queued too
    expect(written).toBeLessThan(5000);
    gate.release();
    call.end();
    await expect(response).resolves.toEqual({ count: written });
  });

  it.each(both)('bidi: each response goes out as its request arrives (%s)', async (way) => {
    const call = served.clients[way].Shout() as grpc.ClientDuplexStream<object, { id: number; name: string }>;
    const replies: { id: number; name: string }[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('error', reject);
      call.on('end', resolve);
    });
    const next = () => new Promise<{ id: number; name: string }>((resolve) => call.once('data', resolve));
    for (const [id, name] of [
      [1, 'acme'],
      [2, 'globex'],
      [3, 'initech'],
    ] as const) {
      const reply = next();
      call.write({ id, name });
      replies.push(await reply); // answered before the next request is sent
    }
    call.end();
    await ended;
    expect(replies).toEqual([
      { id: 1, name: 'ACME' },
      { id: 2, name: 'GLOBEX' },
      { id: 3, name: 'INITECH' },
    ]);
  });
});

@GrpcModelService({ service: 'gadgets.StreamingMakerController', serializer: MakerDraftSerializer })
class CountingMakerService extends MakerStreamsService {
  async Tally(requests: RequestStream): Promise<ProtoMessage> {
    let count = 0;
    for await (const _ of requests) count++;
    return { count };
  }
}

describe('the testing toolkit and request streams', () => {
  it('takes the messages of a client-streaming call and resolves with its response', async () => {
    const { app, close } = await startGadgetApp([CountingMakerService], gadgetProtos('gadget-streams.proto'));
    try {
      const makers = app.client('gadgets.StreamingMakerController');
      await expect(makers.BulkCreate([{ name: 'Acme' }, { name: 'Globex' }])).resolves.toMatchObject({
        makers: [{ name: 'Acme' }, { name: 'Globex' }],
      });
      await expect(makers.BulkCreate([{ name: '' }])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      await expect(makers.Tally(new Set([{ name: 'a' }, { name: 'b' }, { name: 'c' }]))).resolves.toEqual({ count: 3 });
    } finally {
      await close();
    }
  });
});

describe('a client stream whose client sets no deadline', () => {
  it('ends at callTimeoutMs with DEADLINE_EXCEEDED when the client never ends it, writing nothing', async () => {
    const sample = await startSample({ grpc: { callTimeoutMs: 300 } });
    try {
      const staff = await sample.login();
      const error = await new Promise<grpc.ServiceError | null>((resolve) => {
        const call = sample.client('bookstore.BookController', staff).BulkCreate((e: grpc.ServiceError | null) => resolve(e));
        call.write({
          title: 'Never ends',
          isbn: '9780000000001',
          author: { name: 'A' },
          published: { seconds: '0', nanos: 0 },
          price: '1.00',
        });
        // ...and no call.end(): without the default deadline the server would wait for as long as the client stays.
        const patience = setTimeout(() => resolve(null), 10_000);
        patience.unref();
      });
      expect(error?.code).toBe(status.DEADLINE_EXCEEDED);
      expect(await sample.orm.em.fork().count(Book, {})).toBe(0);
    } finally {
      await sample.close();
    }
  });
});
