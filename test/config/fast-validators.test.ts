/**
 * The fast path's validity-only validator (fast-validators.ts) and the annotation stripping it is built
 * on: the same verdict as the full native validator on every fixture and mutations of each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nativeAccepts } from '../../src/config/fast-validators.js';
import { withoutAnnotations } from '../../src/config/schema-annotations.js';
import { nativeValidator } from '../../src/config/validators.js';
import { sameVerdicts } from '../helpers/schema-mutations.js';

describe('validity-only native validator', () => {
  it('strips annotations in schema position only: a property named description and enum values stay', () => {
    const schema = {
      $id: 'x',
      description: 'root',
      title: 'T',
      type: 'object',
      properties: {
        description: { type: 'string', description: 'the field called description', default: 'd' },
        kind: { enum: ['title', 'description'], $comment: 'c' },
        list: { type: 'array', items: { type: 'object', properties: { title: { type: 'string', examples: ['e'] } } } },
        pick: { anyOf: [{ const: { description: 'kept' }, description: 'gone' }] },
      },
      $defs: { default: { type: 'integer', description: 'gone' } },
      additionalProperties: { description: 'gone', type: 'number' },
    };
    const before = JSON.stringify(schema);
    assert.deepEqual(withoutAnnotations(schema), {
      $id: 'x',
      type: 'object',
      properties: {
        description: { type: 'string' },
        kind: { enum: ['title', 'description'] },
        list: { type: 'array', items: { type: 'object', properties: { title: { type: 'string' } } } },
        pick: { anyOf: [{ const: { description: 'kept' } }] },
      },
      $defs: { default: { type: 'integer' } },
      additionalProperties: { type: 'number' },
    });
    assert.equal(JSON.stringify(schema), before, 'the input schema was changed');
  });

  it('accepts exactly what nativeValidator() accepts, on every native fixture and mutations of each', () => {
    const { checked, valid } = sameVerdicts(nativeAccepts(), nativeValidator());
    // Both verdicts occur, often: the comparison is not all `true` or all `false`.
    assert.ok(checked > 3000 && valid > 50 && valid < checked / 2, `${checked} inputs, ${valid} valid`);
  });
});
