import { ApiProperty } from '@nestjs/swagger';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn, IsString, Length, Matches } from 'class-validator';
import { SCOPES, type Scope } from '../../contracts/scopes';

const NAME = /^\S(.*\S)?$/;
const NAME_MESSAGE = 'name must not start or end with white space';

export class CreateOrganisationDto {
  @ApiProperty({ example: 'Acme Security', minLength: 1, maxLength: 100 })
  @IsString() @Length(1, 100) @Matches(NAME, { message: NAME_MESSAGE })
  name: string;
}

export class CreateProjectDto {
  @ApiProperty({ example: 'payments-api', minLength: 1, maxLength: 100 })
  @IsString() @Length(1, 100) @Matches(NAME, { message: NAME_MESSAGE })
  name: string;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'splunk-forwarder', minLength: 1, maxLength: 100 })
  @IsString() @Length(1, 100) @Matches(NAME, { message: NAME_MESSAGE })
  name: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['read', 'sources:write'] })
  @IsArray() @ArrayMinSize(1) @ArrayUnique() @IsIn(SCOPES, { each: true })
  scopes: Scope[];
}

export class OrganisationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class ProjectDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: SCOPES, isArray: true }) scopes: Scope[];
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) revoked_at: string | null;
}

export class CreatedApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: SCOPES, isArray: true }) scopes: Scope[];
  @ApiProperty({ description: 'The key itself (tw_…). Shown only in this response; store it now.', example: 'tw_…' })
  key: string;
}
