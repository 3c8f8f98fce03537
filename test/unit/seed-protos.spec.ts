import * as fs from 'node:fs';
import * as path from 'node:path';
import { isHandWritten, readProtoFile } from '../../lib/contract/proto-reader';

const PROTOS = path.join(__dirname, '..', '..', 'sample', 'protos');

/** Every message's fields as `name = number`, and every service's rpcs, of one sample proto. */
function contractOf(file: string) {
  const model = readProtoFile(file, fs.readFileSync(path.join(PROTOS, file), 'utf8'));
  return {
    handWritten: isHandWritten(model),
    services: Object.fromEntries(model.services.map((s) => [s.name, s.rpcs.map((r) => `${r.name}(${r.request}) ${r.response}`)])),
    messages: Object.fromEntries(
      model.types.flatMap((t) =>
        t.kind === 'message' ? [[t.name, t.fields.map((f) => `${f.label ? `${f.label} ` : ''}${f.type} ${f.name} = ${f.number}`)]] : [],
      ),
    ),
  };
}

const CRUD = (model: string) => [
  `List(${model}ListRequest) ${model}`,
  `Create(${model}) ${model}`,
  `Retrieve(${model}RetrieveRequest) ${model}`,
  `Update(${model}) ${model}`,
  `Destroy(${model}) google.protobuf.Empty`,
];

/** The seed's four protos are a contract with deployed clients: these fields, numbers and rpcs never change. */
describe("the seed's protos", () => {
  it('account.proto', () => {
    expect(contractOf('account.proto')).toEqual({
      handWritten: true,
      services: { UserController: CRUD('User') },
      messages: {
        User: ['int32 id = 1', 'string username = 2', 'string email = 3', 'repeated int32 groups = 4'],
        UserListRequest: [],
        UserRetrieveRequest: ['int32 id = 1'],
      },
    });
  });

  it('blog_proto/post.proto', () => {
    expect(contractOf('blog_proto/post.proto')).toEqual({
      handWritten: true,
      services: { PostController: CRUD('Post') },
      messages: {
        Post: ['int32 id = 1', 'string title = 2', 'string content = 3'],
        PostListRequest: [],
        PostRetrieveRequest: ['int32 id = 1'],
      },
    });
  });

  it('hrm.proto', () => {
    const crud = CRUD('Person');
    expect(contractOf('hrm.proto')).toEqual({
      handWritten: true,
      services: { PersonController: [...crud.slice(0, 4), 'PartialUpdate(PersonPartialUpdateRequest) Person', crud[4]] },
      messages: {
        Person: ['int32 id = 1', 'string name = 2', 'string email = 3'],
        PersonListRequest: [],
        PersonRetrieveRequest: ['int32 id = 1'],
        PersonPartialUpdateRequest: ['int32 id = 1', 'google.protobuf.StringValue name = 2', 'google.protobuf.StringValue email = 3'],
      },
    });
  });

  it('snippets.proto', () => {
    expect(contractOf('snippets.proto')).toEqual({
      handWritten: true,
      services: { SnippetController: CRUD('Snippet') },
      messages: {
        NullableString: ['string value = 1', 'google.protobuf.NullValue null = 2'],
        Snippet: ['int32 id = 1', 'string title = 2', 'NullableString language = 3'],
        SnippetListRequest: [],
        SnippetRetrieveRequest: ['int32 id = 1'],
      },
    });
  });
});
