import { describeOpenApiDocument } from '@ticketing/common/testing';
import { serviceUnderTest } from './test-kit/harness';

describeOpenApiDocument(serviceUnderTest);
