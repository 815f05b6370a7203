/** Where a replica keeps its state: beside its repositories (names never start with '.'). */
export const STATE_DIR = '.pullrep-state';
