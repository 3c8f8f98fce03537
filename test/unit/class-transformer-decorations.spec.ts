import 'reflect-metadata';
import { Exclude, Expose, Transform, TransformationType, Type } from 'class-transformer';
import { CLASS_TO_PLAIN, classDecorations, metadataStorage, PLAIN_TO_CLASS } from '../../lib/serializers/class-transformer-decorations';

class Nested {}

class Decorated {
  @Exclude() hidden!: string;
  @Exclude({ toPlainOnly: true }) secret!: string;
  @Exclude({ toClassOnly: true }) stamp!: string;
  @Expose({ name: 'display_name' }) displayName!: string;
  @Type(() => Nested) child!: Nested;
  @Transform(({ value }) => String(value).toUpperCase(), { toPlainOnly: true }) shout!: string;
  @Transform(({ value }) => String(value).trim(), { toClassOnly: true }) tidy!: string;
}

@Exclude()
class ExposedOnly {
  @Expose() shown!: string;
  other!: string;
}

/**
 * class-transformer keeps no public list of what a class declares: these read its
 * `defaultMetadataStorage` (class-transformer/cjs/storage). Each failure names the internal.
 */
describe('class-transformer internals', () => {
  it('defaultMetadataStorage is exported by class-transformer/cjs/storage', () => {
    expect(metadataStorage()).not.toBeNull();
  });

  it('TransformationType.PLAIN_TO_CLASS and CLASS_TO_PLAIN keep their values', () => {
    expect([TransformationType.PLAIN_TO_CLASS, TransformationType.CLASS_TO_PLAIN]).toEqual([PLAIN_TO_CLASS, CLASS_TO_PLAIN]);
  });

  it('getExcludedMetadatas / getExposedMetadatas / findTypeMetadata / findTransformMetadatas / getStrategy read the decorators', () => {
    const decorations = classDecorations(Decorated, ['hidden', 'secret', 'stamp', 'displayName', 'child', 'shout', 'tidy'])!;
    const property = (name: string) => decorations.properties.get(name);
    expect(property('hidden')?.exclude).toBe('both');
    expect(property('secret')?.exclude).toBe('out');
    expect(property('stamp')?.exclude).toBe('in');
    expect(property('displayName')).toMatchObject({ exposed: true, name: 'display_name' });
    expect(property('child')?.type?.()).toBe(Nested);
    expect(property('shout')?.toMessage.map((fn) => fn({ value: 'hi', key: 'shout', obj: {}, type: CLASS_TO_PLAIN, options: {} }))).toEqual(
      ['HI'],
    );
    expect(property('shout')?.fromMessage).toEqual([]);
    expect(property('tidy')?.fromMessage).toHaveLength(1);
    expect(decorations.exposedOnly).toBe(false);
    expect(classDecorations(ExposedOnly, ['shown', 'other'])).toMatchObject({ exposedOnly: true });
    expect(classDecorations(Nested, [])).toBeUndefined();
  });
});
