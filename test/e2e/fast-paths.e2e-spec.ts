import { Entity, EntityManager, EventArgs, EventSubscriber, MikroORM, PrimaryKey, Property } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module, Type } from '@nestjs/common';
import {
  GrpcFrameworkModule,
  GrpcFrameworkServer,
  GrpcModelService,
  ModelProtoSerializer,
  ModelService,
  ProtoMessage,
  ProtoSerializer,
  SerializerOptions,
} from 'nestjs-grpc-framework';
import { internalsOf } from '../../lib/transport/server-internals';
import { SAMPLE_PROTOS } from '../../sample/app.module';
import { Person } from '../../sample/hrm/person.entity';
import { PersonProtoSerializer } from '../../sample/hrm/person.serializer';
import { unary } from '../utils/sample-app';
import { startApp } from '../utils/start-app';
import { testDatabase } from '../utils/test-database';

const HRM_PROTO = SAMPLE_PROTOS[2];

/** Overrides getSerializer only to add a context key: reads and writes stay on their fast paths. */
@GrpcModelService({ service: 'hrm.PersonController', serializer: PersonProtoSerializer })
class ContextPersonService extends ModelService(Person) {
  override getSerializer(instance?: Person | readonly Person[] | null, options: SerializerOptions = {}): ProtoSerializer<Person> {
    return super.getSerializer(instance, { ...options, context: { ...options.context, tenant: 'acme' } });
  }
}

/** A Create of its own that uses the saved object as an entity: it must get a managed one. */
@GrpcModelService({ service: 'hrm.PersonController', serializer: PersonProtoSerializer })
class ShoutingPersonService extends ModelService(Person) {
  override async Create(request: ProtoMessage): Promise<ProtoMessage> {
    const serializer = this.getSerializer(null, { message: request });
    return this.atomically(async () => {
      await this.validateForWrite(serializer);
      const person = (await this.performCreate(serializer)) as Person;
      person.email = person.email.toUpperCase();
      await this.em.flush();
      return this.respond(serializer);
    });
  }
}

/** The same table, with an onCreate that uses its EntityManager (MikroORM refuses its global one that use). */
@Entity({ tableName: 'hrm_person' })
class CountedPerson {
  @PrimaryKey() id!: number;
  @Property({ length: 100 }) name!: string;
  @Property({ length: 100 }) email!: string;
  @Property({
    nullable: true,
    onCreate: (_person: CountedPerson, em: EntityManager) => em.getUnitOfWork().getIdentityMap().values().length,
  })
  managedBefore?: number;
}

class CountedPersonSerializer extends ModelProtoSerializer(CountedPerson, { fields: ['id', 'name', 'email'] }) {}

@GrpcModelService({ service: 'hrm.PersonController', serializer: CountedPersonSerializer })
class CountedPersonService extends ModelService(CountedPerson) {}

/** A performUpdate of the base class: PartialUpdate, as Update, must use it. */
@GrpcModelService({ service: 'hrm.PersonController', serializer: PersonProtoSerializer })
class StampingPersonService extends ModelService(Person) {
  override async performUpdate(serializer: ProtoSerializer<object>): Promise<unknown> {
    return serializer.save({ email: 'stamped@example.com' });
  }
}

/** Both fast paths switched off by their options. */
@GrpcModelService({ service: 'hrm.PersonController', serializer: PersonProtoSerializer })
class CarefulPersonService extends ModelService(Person) {
  override leanReads = false;
  override writeTransactions = 'always' as const;
}

/** The same, as @GrpcModelService options. */
@GrpcModelService({ service: 'hrm.PersonController', serializer: PersonProtoSerializer, leanReads: false, writeTransactions: 'always' })
class CarefulByOptionsPersonService extends ModelService(Person) {}

describe('fast paths', () => {
  const statements: string[] = [];
  let database: ReturnType<typeof testDatabase>;
  let running: Awaited<ReturnType<typeof startApp>>;

  async function start(controller: Type, entity: Function = Person) {
    database = testDatabase({
      debug: ['query'],
      logger: (message: string) => statements.push(message.replace(/\x1b\[[\d;]*m/g, '').toLowerCase()),
    });
    @Module({
      imports: [
        MikroOrmModule.forRoot({ ...database.options, entities: [entity] }),
        GrpcFrameworkModule.forRoot({ protoPath: HRM_PROTO, url: '127.0.0.1:0' }),
      ],
      controllers: [controller],
    })
    class PersonAppModule {}
    running = await startApp(PersonAppModule, HRM_PROTO);
    await running.app.get(MikroORM).getSchemaGenerator().refreshDatabase();
    statements.length = 0;
    return running.client('hrm.PersonController');
  }
  afterEach(async () => {
    await running?.close();
    await database.dispose();
  });

  const written = () => statements.flatMap((s) => s.match(/\b(begin|commit|insert|update)\b/)?.[1] ?? []);
  const selects = () => statements.filter((s) => /select/.test(s) && /person/.test(s));
  const report = () => internalsOf(running.app.get(GrpcFrameworkServer)).fastPathReport();

  it('stay on when getSerializer is overridden to add a context key', async () => {
    const people = await start(ContextPersonService);
    const amy = await unary<{ id: number }>(people, 'Create', { name: 'amy', email: 'amy@example.com' });
    expect(written()).toEqual(['insert']);
    statements.length = 0;
    await expect(unary(people, 'Retrieve', { id: amy.id })).resolves.toMatchObject({ name: 'amy' });
    expect(selects().join('\n')).not.toMatch(/\.\*/); // the columns, not an entity
    expect(report()).toEqual(
      expect.arrayContaining([
        '  Retrieve: reads columns straight into messages',
        '  Create: one statement, without a transaction (an INSERT compiled once, from the validated data without a managed entity)',
      ]),
    );
  });

  it('Create forks no EntityManager and makes no managed entity, unless an onInit listener wants one', async () => {
    const people = await start(ContextPersonService);
    const orm = running.app.get(MikroORM);
    const forks = jest.spyOn(orm.em, 'fork');
    await expect(unary(people, 'Create', { name: 'amy', email: 'amy@example.com' })).resolves.toEqual({
      id: expect.any(Number),
      name: 'amy',
      email: 'amy@example.com',
    });
    expect(forks).not.toHaveBeenCalled();

    // A subscriber registered at run time is heard: its onInit sees the entity em.create makes.
    const initialised: object[] = [];
    const subscriber: EventSubscriber<Person> = {
      getSubscribedEntities: () => [Person],
      onInit: (args: EventArgs<Person>) => void initialised.push(args.entity),
    };
    orm.em.getEventManager().registerSubscriber(subscriber);
    await expect(unary(people, 'Create', { name: 'bob', email: 'bob@example.com' })).resolves.toMatchObject({ name: 'bob' });
    expect(forks).toHaveBeenCalledTimes(1);
    expect(initialised).toEqual([expect.objectContaining({ name: 'bob' })]);
    expect(written()).toEqual(['insert', 'insert']);
  });

  it("Create makes a managed entity when the service's own Create may use it as one", async () => {
    const people = await start(ShoutingPersonService);
    const amy = await unary<{ id: number }>(people, 'Create', { name: 'amy', email: 'amy@example.com' });
    await expect(unary(people, 'Retrieve', { id: amy.id })).resolves.toMatchObject({ email: 'AMY@EXAMPLE.COM' });
    expect(report()).toContain(
      '  Create: one statement, without a transaction (an INSERT compiled once, of a managed entity: Create is overridden)',
    );
  });

  it("gives an onCreate that takes the EntityManager the call's own, not the application's", async () => {
    const people = await start(CountedPersonService, CountedPerson);
    const amy = await unary<{ id: number }>(people, 'Create', { name: 'amy', email: 'amy@example.com' });
    const stored = await running.app.get(MikroORM).em.fork().findOneOrFail(CountedPerson, amy.id);
    expect(stored.managedBefore).toBe(0);
    expect(report()).toContain(
      '  Create: one statement, without a transaction (an INSERT compiled once, from the validated data without a managed entity)',
    );
  });

  it('PartialUpdate uses the performUpdate its service defines, as Update does', async () => {
    const people = await start(StampingPersonService);
    const amy = await unary<{ id: number }>(people, 'Create', { name: 'amy', email: 'amy@example.com' });
    await expect(unary(people, 'PartialUpdate', { id: amy.id, name: { value: 'amelia' } })).resolves.toEqual({
      id: amy.id,
      name: 'amelia',
      email: 'stamped@example.com',
    });
    expect(report()).toContain('  PartialUpdate: in a transaction (performUpdate is overridden)');
  });

  it.each([
    ['in the class', CarefulPersonService],
    ['as @GrpcModelService options', CarefulByOptionsPersonService],
  ])('are switched off by leanReads = false and writeTransactions = always (%s), and say so', async (_how, service) => {
    const people = await start(service);
    const amy = await unary<{ id: number }>(people, 'Create', { name: 'amy', email: 'amy@example.com' });
    expect(written()).toEqual(['begin', 'insert', 'commit']);
    statements.length = 0;
    await unary(people, 'Retrieve', { id: amy.id });
    expect(selects().join('\n')).toMatch(/\.\*/);
    expect(report()).toEqual(
      expect.arrayContaining([
        '  Retrieve: loads entities (leanReads is false)',
        "  Create: in a transaction (writeTransactions is 'always')",
      ]),
    );
  });
});
