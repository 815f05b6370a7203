import { installKafkaWorkarounds } from '../src/kafka/index.js';
import { silentLogger } from '../src/log/index.js';

// As the CLI does before its first Kafka client: the kafkajs workarounds, once per process,
// before kafkajs loads the modules they stand in for.
installKafkaWorkarounds(silentLogger());
