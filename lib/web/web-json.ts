import type * as protobuf from 'protobufjs';
import { JsonValue, ProtoJson, ProtoJsonError } from '../proto/proto-json';

/**
 * Message JSON for the web protocols: proto3's JSON mapping exactly (see `ProtoJson`), so
 * clients generated from the protos (connect-es, grpc-gateway's, protobuf's own) read and write
 * it. Names are lowerCamelCase out and either spelling in; every field is written, zeros
 * included; a field the message does not have is refused rather than dropped.
 */
export class WebJson {
  readonly mapping = new ProtoJson();

  /** A request body's JSON as the message's binary encoding, or why it is not one. */
  toBinary(type: protobuf.Type, body: Buffer): Buffer | Error {
    let json: JsonValue;
    try {
      json = JSON.parse(body.length ? body.toString('utf8') : '{}') as JsonValue;
    } catch (error) {
      return new Error(`The request is not valid JSON for ${type.fullName.slice(1)}: ${(error as Error).message}`);
    }
    return this.valueToBinary(type, json);
  }

  /** A parsed JSON value as the message's binary encoding, or why it is not one. */
  valueToBinary(type: protobuf.Type, json: JsonValue): Buffer | Error {
    try {
      return this.mapping.toBinary(type, json);
    } catch (error) {
      if (!(error instanceof ProtoJsonError)) throw error;
      return new Error(`The request is not valid JSON for ${type.fullName.slice(1)}: ${error.message}.`);
    }
  }

  /** A response message as JSON text, or why it cannot be written. */
  toJson(type: protobuf.Type, message: Buffer): Buffer | Error {
    const json = this.toJsonValue(type, message);
    return json instanceof Error ? json : Buffer.from(JSON.stringify(json));
  }

  /** A response message as a JSON value, or why it cannot be written. */
  toJsonValue(type: protobuf.Type, message: Buffer): JsonValue | Error {
    try {
      return this.mapping.toJson(type, message);
    } catch (error) {
      return new Error(`The response could not be written as JSON: ${(error as Error).message}`);
    }
  }
}
