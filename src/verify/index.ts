export { RefChecksum, checksumOfLines, combineChecksums, EMPTY_CHECKSUM } from './checksum.js';
export { createVerifier, type Verifier, type VerifierDeps, type VerifyResult } from './verify.js';
export { verifyMany, repairDiffering, isEqual, isSound, type VerifyEntry, type BatchDeps } from './batch.js';
export { listingFailure, localListing, remoteListing, unreadableObjects, type Listing, type ListingDeps } from './ref-listing.js';
