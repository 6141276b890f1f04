/**
 * Problems found after parsing (host checks, networks, bridges, tuning) get their file:line:col from the
 * definition's text, read again only then; the locators load only when an error needs them.
 */
import type { DomainSpec } from '../model/domain.js';

export async function placeError(e: unknown, definition: { readonly spec: DomainSpec; readonly text: string } | undefined): Promise<unknown> {
  if (definition === undefined || (e as { details?: { problems?: unknown } } | null)?.details?.problems === undefined) return e;
  const { placeProblems } = await import('../host/caps/locate-spec.js');
  return placeProblems(e, definition.spec, definition.text);
}
