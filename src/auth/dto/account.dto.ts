import { ApiProperty } from '@nestjs/swagger';

export class AccountDto {
  @ApiProperty({ example: 'serg' })
  username!: string;
}
