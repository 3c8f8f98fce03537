import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { Person } from './person.entity';
import { PersonService } from './person.service';

@Module({
  imports: [MikroOrmModule.forFeature([Person])],
  controllers: [PersonService],
})
export class HrmModule {}
