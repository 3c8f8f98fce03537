import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { GrpcFrameworkOptions } from '../interfaces/grpc-framework-options.interface';

export const {
  ConfigurableModuleClass: GrpcFrameworkConfigurableModule,
  MODULE_OPTIONS_TOKEN: GRPC_FRAMEWORK_OPTIONS,
  OPTIONS_TYPE: GRPC_FRAMEWORK_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: GRPC_FRAMEWORK_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<GrpcFrameworkOptions>({ moduleName: 'GrpcFramework' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createGrpcFrameworkOptions')
  .build();
