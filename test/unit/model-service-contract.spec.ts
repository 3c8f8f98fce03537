import { modelServiceParts, ModelServiceShape, seedRpcOptions } from '../../lib/contract/model-service';
import type { MessageModel } from '../../lib/contract/proto-model';

const id = { name: 'id', type: 'int32', label: '' as const, number: 1 };
const title = { name: 'title', type: 'string', label: '' as const, number: 2 };
const shape: ModelServiceShape = { model: 'Note', fields: [id, title], key: id, types: [] };

const fieldsOf = (types: ReturnType<typeof modelServiceParts>['types'], name: string) =>
  (types.find((type) => type.name === name) as MessageModel | undefined)?.fields.map((field) => `${field.name} = ${field.number}`);

describe('a model service with request ids (generateproto --request-ids)', () => {
  it('puts request_id in the write message and gives Destroy a request of its own', () => {
    const { service, types } = modelServiceParts(
      { ...shape, writeFields: [id, title] },
      { ...seedRpcOptions('NoteController', false), requestIds: true },
    );
    expect(service.rpcs.map((rpc) => `${rpc.name}(${rpc.request})`)).toEqual([
      'List(NoteListRequest)',
      'Create(NoteWrite)',
      'Retrieve(NoteRetrieveRequest)',
      'Update(NoteWrite)',
      'Destroy(NoteDestroyRequest)',
    ]);
    expect(fieldsOf(types, 'Note')).toEqual(['id = 1', 'title = 2']);
    expect(fieldsOf(types, 'NoteWrite')).toEqual(['id = 1', 'title = 2', 'request_id = 3']);
    expect(fieldsOf(types, 'NoteDestroyRequest')).toEqual(['id = 1', 'request_id = 2']);
    expect(fieldsOf(types, 'NoteRetrieveRequest')).toEqual(['id = 1']);
  });

  it("puts request_id in the model message in the seed's one-message shape", () => {
    const { service, types } = modelServiceParts(shape, { ...seedRpcOptions('NoteController', false), requestIds: true });
    expect(service.rpcs.find((rpc) => rpc.name === 'Destroy')?.request).toBe('Note');
    expect(fieldsOf(types, 'Note')).toEqual(['id = 1', 'title = 2', 'request_id = 3']);
  });

  it('adds nothing without the option', () => {
    const { types } = modelServiceParts({ ...shape, writeFields: [id, title] }, seedRpcOptions('NoteController', false));
    expect(fieldsOf(types, 'NoteWrite')).toEqual(['id = 1', 'title = 2']);
    expect(types.some((type) => type.name === 'NoteDestroyRequest')).toBe(false);
  });
});
