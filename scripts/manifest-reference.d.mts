/** Types of scripts/manifest-reference.mjs, for the test that keeps docs/reference/manifest.md current. */
export declare const REFERENCE_PATH: string;
export declare function renderReference(schema: unknown): string;
