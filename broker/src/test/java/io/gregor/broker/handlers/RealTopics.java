package io.gregor.broker.handlers;

import io.gregor.broker.Topics;
import io.gregor.broker.metadata.LocalMetadataStore;
import io.gregor.broker.replica.FetchPurgatory;
import io.gregor.broker.replica.ReplicaManager;
import io.gregor.config.BrokerConfig;
import io.gregor.storage.FileLogManager;
import io.gregor.storage.StorageSettings;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.utils.Time;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.function.BiFunction;

/** A broker's topic lifecycle on real metadata files and real logs in a directory, without the network. */
final class RealTopics implements AutoCloseable {
    final BrokerConfig config;
    final Topics topics;
    private final LocalMetadataStore store;
    private final FileLogManager logs;
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);

    RealTopics(Path dir, Map<String, String> extraConfig) {
        Map<String, String> props = new HashMap<>(extraConfig);
        props.put("listeners", "PLAINTEXT://127.0.0.1:0");
        props.put("log.dirs", dir.toString());
        config = BrokerConfig.of(props);
        store = new LocalMetadataStore(dir.resolve("gregor-metadata"));
        logs = FileLogManager.open(new StorageSettings(List.of(dir), Math.max(config.brokerId(), 0), config.logRetentionCheckIntervalMs(),
                        config.logFlushSchedulerIntervalMs(), config.logFlushOffsetCheckpointIntervalMs(),
                        config.logFlushStartOffsetCheckpointIntervalMs()),
                topic -> ReplicaManager.logConfig(config, Map.of()));
        topics = new Topics(config, store, new ReplicaManager(config, logs, new FetchPurgatory(scheduler, scheduler), Time.SYSTEM));
        topics.startup();
    }

    @Override
    public void close() {
        logs.close();
        store.close();
        scheduler.shutdownNow();
    }

    /** Writes the message as a client would receive it at {@code version} and reads it back. */
    static <T extends ApiMessage> T roundTrip(T message, short version, BiFunction<ByteBufferAccessor, Short, T> reader) {
        // toByteBufferAccessor hands the buffer back rewound, ready to read.
        return reader.apply(MessageUtil.toByteBufferAccessor(message, version), version);
    }
}
