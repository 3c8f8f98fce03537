import { fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
import type { DescMessage, JsonValue } from '@bufbuild/protobuf';
import { nonDecimalInteger } from './decimal-integers';

/**
 * Message JSON for the web protocols: proto3's JSON mapping exactly, so clients generated from
 * the protos (connect-es, grpc-gateway's, protobuf's own) read and write it. Names are
 * lowerCamelCase out and either spelling in; every field is written, zeros included; a field
 * the message does not have is refused rather than dropped.
 */
export class WebJson {
  /** A request body's JSON as the message's binary encoding, or why it is not one. */
  toBinary(desc: DescMessage, body: Buffer): Buffer | Error {
    let json: JsonValue;
    try {
      json = JSON.parse(body.length ? body.toString('utf8') : '{}') as JsonValue;
    } catch (error) {
      return new Error(`The request is not valid JSON for ${desc.typeName}: ${(error as Error).message}`);
    }
    return this.valueToBinary(desc, json);
  }

  /** A parsed JSON value as the message's binary encoding, or why it is not one. */
  valueToBinary(desc: DescMessage, json: JsonValue): Buffer | Error {
    const notDecimal = nonDecimalInteger(desc, json);
    if (notDecimal)
      return new Error(
        `The request is not valid JSON for ${desc.typeName}: ${notDecimal} must be a decimal integer (proto3's JSON mapping).`,
      );
    try {
      return Buffer.from(toBinary(desc, fromJson(desc, json, { ignoreUnknownFields: false })));
    } catch (error) {
      return new Error(`The request is not valid JSON for ${desc.typeName}: ${(error as Error).message}`);
    }
  }

  /** A response message as JSON text, or why it cannot be written. */
  toJson(desc: DescMessage, message: Buffer): Buffer | Error {
    const json = this.toJsonValue(desc, message);
    return json instanceof Error ? json : Buffer.from(JSON.stringify(json));
  }

  /** A response message as a JSON value, or why it cannot be written. */
  toJsonValue(desc: DescMessage, message: Buffer): JsonValue | Error {
    try {
      return toJson(desc, fromBinary(desc, message), { alwaysEmitImplicit: true });
    } catch (error) {
      return new Error(`The response could not be written as JSON: ${(error as Error).message}`);
    }
  }
}
