import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../../http/api-errors.decorator';

/** An error outcome whose code is specific to the endpoint (ApiErrors documents the common ones). */
export const ApiOutcome = (status: number, description: string) => ApiResponse({ status, description, type: ErrorResponseDto });
