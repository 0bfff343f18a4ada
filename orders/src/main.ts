import './tracing';
import { runService } from '@ticketing/common';
import { loadConfig } from './config';
import { startService } from './service';

runService({ name: 'orders', loadConfig, start: startService });
