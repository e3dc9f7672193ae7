import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../common/public.decorator';
import { AuthService } from './auth.service';
import { CurrentAdmin } from './current-admin.decorator';
import { AccessTokenDto } from './dto/access-token.dto';
import { AccountDto } from './dto/account.dto';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';

@ApiTags('auth')
@Controller('api')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in as an admin' })
  @ApiOkResponse({ type: AccessTokenDto })
  @ApiUnauthorizedResponse({ description: '`invalid_credentials`' })
  @ApiTooManyRequestsResponse({
    description:
      '`throttled`: 10 failures for this username and IP, or 50 from this IP, within 15 min',
  })
  login(@Body() body: LoginDto, @Req() req: Request): Promise<AccessTokenDto> {
    return this.auth.login(body.username, body.password, clientIp(req));
  }

  @Get('account')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in admin' })
  @ApiOkResponse({ type: AccountDto })
  account(@CurrentAdmin() username: string): AccountDto {
    return { username };
  }

  @Post('account/password')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Change your own password',
    description: 'Revokes every token issued before and answers a fresh one.',
  })
  @ApiOkResponse({ type: AccessTokenDto })
  @ApiUnauthorizedResponse({ description: '`invalid_credentials`: wrong current password' })
  @ApiUnprocessableEntityResponse({ description: '`validation_failed`: new password too short' })
  changePassword(
    @CurrentAdmin() username: string,
    @Body() body: ChangePasswordDto,
    @Req() req: Request,
  ): Promise<AccessTokenDto> {
    return this.auth.changePassword(
      username,
      body.current_password,
      body.new_password,
      clientIp(req),
    );
  }
}

/** Express resolves `req.ip` from X-Forwarded-For only when TRUST_PROXY turned `trust proxy` on. */
function clientIp(req: Request): string {
  return (req.ip ?? req.socket.remoteAddress ?? 'unknown').slice(0, 64);
}
