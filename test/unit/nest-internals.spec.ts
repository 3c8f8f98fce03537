import { ExternalContextCreator } from '@nestjs/core';
import { REPLACED_CONTEXT_CREATOR_METHODS } from '../../lib/server/nest-internals';

// lib/server/nest-internals.ts overrides private methods of Nest's ExternalContextCreator; this
// fails, naming the method, when an upgrade renames or removes one.
describe('@nestjs/core internals the framework relies on', () => {
  it.each(REPLACED_CONTEXT_CREATOR_METHODS)('ExternalContextCreator.prototype.%s is still a method', (name) => {
    expect(typeof (ExternalContextCreator.prototype as unknown as Record<string, unknown>)[name]).toBe('function');
  });
});
