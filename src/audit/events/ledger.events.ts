import type { IEvent } from '@nestjs/cqrs';
import { DomainEvent } from '../../cqrs/domain-event';

/** Ledger of an organisation (`ledger-<organisationId>`), or of the instance's own streams (`ledger-instance`). */
export const INSTANCE_LEDGER = 'instance';
export const ledgerStream = (organisationId: string | null) => `ledger-${organisationId ?? INSTANCE_LEDGER}`;
export const LEDGER_CATEGORY = 'ledger';

export interface StreamHead {
  stream: string;
  revision: number;
  hash: string;
}

/**
 * A ledger checkpoint: the head (revision, hash) of every stream of one organisation that changed in the log
 * between `from` (exclusive) and `to` (inclusive), signed with the instance's Ed25519 audit key. The signature
 * covers RFC 8785 of this event's data without `signature`, so a database writer who recomputes every SHA-256
 * of a rewritten history still cannot produce a checkpoint that agrees with it (docs/audit.md).
 */
@DomainEvent('LedgerCheckpointRecorded')
export class LedgerCheckpointRecorded implements IEvent {
  constructor(
    /** null: the instance-level streams (instance settings, source-name claims), readable by the instance admin. */
    readonly organisationId: string | null,
    /** 1, 2, 3… within the ledger: a checkpoint removed from the middle leaves a gap the signatures expose. */
    readonly sequence: number,
    /** Log positions (`commit/prepare`) this checkpoint covers: after `from` (null: the start) up to `to`. */
    readonly from: string | null,
    readonly to: string,
    readonly createdAt: string,
    readonly streams: StreamHead[],
    readonly algorithm: 'Ed25519',
    /** Raw 32-byte public key, base64: lets a file verify on its own; pin it with `--public-key` to trust it. */
    readonly publicKey: string,
    readonly keyId: string,
    /** base64 Ed25519 signature of JCS(data without `signature`). */
    readonly signature: string,
  ) {}
}
