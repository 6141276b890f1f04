/**
 * Bounds on what a definition may contain, so that reading any text takes time and memory in proportion
 * to its size and no reader recurses without bound. A definition is a few KiB with a nesting of under ten
 * levels; these limits are far above that. Pure.
 */

/** Deepest nesting of mappings and lists (YAML) or elements (XML). */
export const MAX_DEPTH = 64;

/** Most values in a YAML document (aliases expanded), against "billion laughs" documents. */
export const MAX_YAML_NODES = 100_000;

/** Most elements in an XML document. */
export const MAX_XML_ELEMENTS = 100_000;

/** Most problems listed for one definition; the rest are counted in one last problem. */
export const MAX_PROBLEMS = 100;

/**
 * Most problems kept while reading (the first MAX_PROBLEMS in source order are then listed): past this, a
 * problem is only counted, so a text with a hundred thousand mistakes costs no more than one with a thousand.
 */
export const MAX_KEPT_PROBLEMS = 1000;
