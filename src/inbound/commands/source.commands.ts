import type { ICommand } from '@nestjs/cqrs';
import type { SourceSettings } from '../events/source.events';

/**
 * `via` says who asks: a source declared in the configuration file can only be changed by the file
 * (`config`), never through the API, or the next start would silently undo the API's change.
 * Secret ids are chosen by the caller, so a retried command seals under the same id.
 */
export type SourceCommandOrigin = 'api' | 'config';

export class RegisterSource implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly name: string,
    readonly settings: SourceSettings,
    readonly secretId: string,
    /** Plaintext, in memory only: the handler seals it before anything is written. */
    readonly secret: string,
  ) {}
}

export class UpdateSource implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly name: string,
    readonly changes: Partial<SourceSettings>,
    readonly via: SourceCommandOrigin,
  ) {}
}

export class RotateSourceSecret implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly name: string,
    readonly secretId: string,
    readonly secret: string,
    readonly gracePeriodSeconds: number,
    readonly via: SourceCommandOrigin,
  ) {}
}

export class RemoveSource implements ICommand {
  constructor(
    readonly organisationId: string,
    readonly name: string,
    readonly via: SourceCommandOrigin,
  ) {}
}
