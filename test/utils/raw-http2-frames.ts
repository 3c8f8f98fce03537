import * as net from 'node:net';

// An HTTP/2 client written frame by frame, for what Node's own client refuses to send: it
// throws on a second value of a header it treats as single-valued (authorization), so a test
// of how the server treats duplicate credentials needs to write the request itself.

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const DATA = 0x0,
  HEADERS = 0x1,
  RST_STREAM = 0x3,
  SETTINGS = 0x4,
  GOAWAY = 0x7;
const END_STREAM = 0x1,
  END_HEADERS = 0x4,
  ACK = 0x1;

/** What the server sent on the request's stream. */
export interface RawHttp2Answer {
  /** Frame types in order: 'HEADERS', 'DATA', 'RST_STREAM' (GOAWAY, on the connection, too). */
  frames: string[];
  /** The DATA frames' payloads, concatenated. */
  body: Buffer;
}

function frameOf(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK's integer with a 7-bit prefix (RFC 7541 5.1), for a string's length without Huffman coding. */
function lengthOf(value: number): Buffer {
  if (value < 127) return Buffer.from([value]);
  const bytes = [127];
  let rest = value - 127;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** Each header as a literal field without indexing and with a new name (RFC 7541 6.2.2): no table, no Huffman. */
function headerBlock(headers: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    const n = Buffer.from(name),
      v = Buffer.from(value);
    parts.push(Buffer.from([0x00]), lengthOf(n.length), n, lengthOf(v.length), v);
  }
  return Buffer.concat(parts);
}

/**
 * Sends one POST on stream 1 of a new cleartext HTTP/2 connection, with `headers` exactly as
 * given (repeated names included) after the pseudo-headers, and `body` as one DATA frame;
 * resolves once the server ends the stream, resets it or closes the connection.
 */
export function rawHttp2Post(
  port: number,
  path: string,
  headers: ReadonlyArray<readonly [string, string]>,
  body: Buffer,
): Promise<RawHttp2Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const answer: RawHttp2Answer = { frames: [], body: Buffer.alloc(0) };
    let pending = Buffer.alloc(0);
    const finish = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.on('connect', () => {
      const pseudo: Array<readonly [string, string]> = [
        [':method', 'POST'],
        [':scheme', 'http'],
        [':authority', `127.0.0.1:${port}`],
        [':path', path],
      ];
      socket.write(
        Buffer.concat([
          PREFACE,
          frameOf(SETTINGS, 0, 0, Buffer.alloc(0)),
          frameOf(HEADERS, END_HEADERS, 1, headerBlock([...pseudo, ...headers])),
          frameOf(DATA, END_STREAM, 1, body),
        ]),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 9 && pending.length >= 9 + pending.readUIntBE(0, 3)) {
        const length = pending.readUIntBE(0, 3),
          type = pending[3],
          flags = pending[4];
        const stream = pending.readUInt32BE(5) & 0x7fffffff;
        const payload = pending.subarray(9, 9 + length);
        pending = pending.subarray(9 + length);
        if (type === SETTINGS && !(flags & ACK)) socket.write(frameOf(SETTINGS, ACK, 0, Buffer.alloc(0)));
        if (type === GOAWAY) {
          answer.frames.push('GOAWAY');
          return finish();
        }
        if (stream !== 1) continue;
        if (type === DATA) answer.body = Buffer.concat([answer.body, payload]);
        answer.frames.push(type === DATA ? 'DATA' : type === HEADERS ? 'HEADERS' : type === RST_STREAM ? 'RST_STREAM' : `type ${type}`);
        if (type === RST_STREAM || ((type === DATA || type === HEADERS) && flags & END_STREAM)) return finish();
      }
    });
  });
}
