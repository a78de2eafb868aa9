import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsObject, IsOptional, IsString, Length } from 'class-validator';
import { SEVERITIES } from '../../contracts/alert';
import { AsSent } from '../../http/request-validation';
import { CRITICALITIES, ENTRY_LISTS, type Criticality, type EntryList } from '../triage-settings';

class IndicatorListsDto {
  @ApiProperty({ type: [String], description: 'Domains; a domain matches its subdomains too' }) domains: string[];
  @ApiProperty({ type: [String], description: 'URL prefixes' }) urls: string[];
  @ApiProperty({ type: [String], description: 'Addresses or CIDR ranges' }) ips: string[];
  @ApiProperty({ type: [String], description: 'MD5, SHA-1 or SHA-256' }) hashes: string[];
  @ApiProperty({ type: [String] }) emails: string[];
}

class CriticalityDto {
  @ApiProperty({ example: 'dc-*', description: 'Host name pattern: `*` any characters, `?` one' }) pattern: string;
  @ApiProperty({ enum: CRITICALITIES }) criticality: Criticality;
}

class RoutingRuleDto {
  @ApiPropertyOptional({ type: [String], enum: ['malicious', 'suspicious', 'benign'] }) verdict?: string[];
  @ApiPropertyOptional({ type: [String], enum: SEVERITIES }) severity?: string[];
  @ApiPropertyOptional() playbook?: string;
  @ApiPropertyOptional() source?: string;
  @ApiPropertyOptional() escalated?: boolean;
  @ApiProperty() assignee: string;
}

class ThresholdsDto {
  @ApiProperty({ example: 70 }) malicious_score: number;
  @ApiProperty({ example: 30 }) suspicious_score: number;
  @ApiProperty({ example: 2 }) lookalike_distance: number;
  @ApiProperty({ example: 60 }) campaign_window_minutes: number;
  @ApiProperty({ example: 3 }) campaign_size: number;
  @ApiProperty({ example: 60 }) repeat_window_minutes: number;
  @ApiProperty({ example: 3 }) repeat_detections: number;
  @ApiProperty({ example: 60 }) duplicate_window_minutes: number;
}

/**
 * The settings as PUT takes them. Every key is optional (a left-out key takes its default: PUT replaces the
 * whole settings); the values are validated like the configuration file's `playbooks:` section, so the
 * fields are taken as sent and checked in one place (src/triage/triage-settings.ts).
 */
export class TriageSettingsBodyDto {
  @ApiPropertyOptional({ type: [String], description: 'Protected by hand, beside the learned domains and the brand list' })
  @IsOptional() @AsSent()
  protected_domains?: unknown;

  @ApiPropertyOptional({ type: [String], description: 'Never protected: taken out of the learned domains and the brand list' })
  @IsOptional() @AsSent()
  unprotected_domains?: unknown;

  // Defaults in words, not as `default`: generators read `default` as "always present" (docs/api.md).
  @ApiPropertyOptional({ description: "Protect the organisation's own domains, learned from its alerts' recipients; default true" })
  @IsOptional() @IsBoolean()
  learn_own_domains?: boolean;

  @ApiPropertyOptional({ description: 'Protect the commonly impersonated brands of `brand_list`; default true' })
  @IsOptional() @IsBoolean()
  brand_domains?: boolean;

  @ApiPropertyOptional({ type: IndicatorListsDto }) @IsOptional() @IsObject() @AsSent() allow?: unknown;
  @ApiPropertyOptional({ type: IndicatorListsDto }) @IsOptional() @IsObject() @AsSent() block?: unknown;
  @ApiPropertyOptional({ type: [CriticalityDto], description: 'Critical hosts, first match wins' }) @IsOptional() @AsSent() asset_criticality?: unknown;
  @ApiPropertyOptional({ type: [RoutingRuleDto], description: 'First match assigns' }) @IsOptional() @AsSent() routing?: unknown;
  @ApiPropertyOptional({ type: ThresholdsDto }) @IsOptional() @IsObject() @AsSent() thresholds?: unknown;
}

class ProtectedDomainDto {
  @ApiProperty() domain: string;
  @ApiProperty({ enum: ['configured', 'learned', 'brand'] }) origin: string;
}

class BrandListDto {
  @ApiProperty({ description: 'Where the list comes from' }) source: string;
  @ApiProperty({ type: [String] }) domains: string[];
}

export class TriageSettingsDto {
  @ApiProperty({ format: 'uuid' }) organisation_id: string;
  @ApiProperty({ enum: ['api', 'instance'], description: '`instance`: none of its own yet, the configuration file\'s (or built-in) settings apply' })
  origin: string;
  @ApiProperty({ nullable: true, type: String }) changed_at: string | null;
  @ApiProperty({ type: [String] }) protected_domains: string[];
  @ApiProperty({ type: [String] }) unprotected_domains: string[];
  @ApiProperty() learn_own_domains: boolean;
  @ApiProperty() brand_domains: boolean;
  @ApiProperty({ type: IndicatorListsDto }) allow: IndicatorListsDto;
  @ApiProperty({ type: IndicatorListsDto }) block: IndicatorListsDto;
  @ApiProperty({ type: [CriticalityDto] }) asset_criticality: CriticalityDto[];
  @ApiProperty({ type: [RoutingRuleDto] }) routing: RoutingRuleDto[];
  @ApiProperty({ type: ThresholdsDto }) thresholds: ThresholdsDto;
  @ApiProperty({ type: [String], description: "The organisation's domains learned from its alerts' recipients, most seen first" })
  learned_domains: string[];
  @ApiProperty({ type: BrandListDto }) brand_list: BrandListDto;
  @ApiProperty({ type: [ProtectedDomainDto], description: 'The protected domains in force, with where each comes from' })
  effective_protected_domains: ProtectedDomainDto[];
}

export class TriageSettingsEntryDto {
  @ApiProperty({ enum: ENTRY_LISTS }) @IsIn(ENTRY_LISTS) list: EntryList;
  @ApiProperty({ example: 'evil.example', description: 'The entry: a domain, URL, address, hash, email, or a host pattern for asset_criticality' })
  @IsString() @Length(1, 2048)
  value: string;
  @ApiPropertyOptional({ enum: CRITICALITIES, description: 'asset_criticality only (default critical)' })
  @IsOptional() @IsIn(CRITICALITIES)
  criticality?: Criticality;
}

export class TriageSettingsEntryQuery {
  @ApiProperty({ enum: ENTRY_LISTS }) @IsIn(ENTRY_LISTS) list: EntryList;
  @ApiProperty({ description: 'The entry to remove (for asset_criticality: the pattern)' }) @IsString() @Length(1, 2048) value: string;
}
