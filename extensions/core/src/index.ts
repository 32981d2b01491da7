/**
 * @packageDocumentation
 * The tokens, shared types and REST client of the espri-vre suite. This package has
 * no plugins: the extensions provide and consume its tokens, and it is shared between
 * them as a singleton through module federation.
 */
export * from './api';
export * from './api.generated';
export * from './dataset';
export * from './main-area';
export * from './poll';
export * from './tokens';
export * from './settings';
export * from './side-panel';
