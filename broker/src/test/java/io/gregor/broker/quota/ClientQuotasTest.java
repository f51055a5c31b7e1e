package io.gregor.broker.quota;

import io.gregor.broker.metadata.LocalMetadataStore;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kafka's quota precedence (KIP-55) and rate sharing, on a real metadata store: each level wins over the ones
 * below it, per quota type, and clients share a rate exactly as Kafka's quota metrics group them.
 */
class ClientQuotasTest {
    @TempDir
    Path dir;

    private static final String D = QuotaEntity.DEFAULT;

    @Test
    void eachLevelWinsOverTheLevelsBelowIt() {
        LocalMetadataStore store = new LocalMetadataStore(dir);
        ClientQuotas quotas = new ClientQuotas(store, 11, 1000, Time.SYSTEM);
        // from the lowest level up: each new level must take over
        Object[][] levels = {
                {new QuotaEntity(null, D), 8.0},
                {new QuotaEntity(null, "app"), 7.0},
                {new QuotaEntity(D, null), 6.0},
                {new QuotaEntity(D, D), 5.0},
                {new QuotaEntity(D, "app"), 4.0},
                {new QuotaEntity("alice", null), 3.0},
                {new QuotaEntity("alice", D), 2.0},
                {new QuotaEntity("alice", "app"), 1.0}};
        for (Object[] level : levels) {
            set(store, (QuotaEntity) level[0], "producer_byte_rate", (Double) level[1]);
            quotas.reload();
            assertThat(quotas.limits("alice", "app")[QuotaType.PRODUCE.ordinal()].bound())
                    .as("after setting %s", level[0]).isEqualTo((Double) level[1]);
        }
        // per type: alice's fetches fall through to the only consumer quota there is
        set(store, new QuotaEntity(null, D), "consumer_byte_rate", 99.0);
        quotas.reload();
        assertThat(quotas.limits("alice", "app")[QuotaType.FETCH.ordinal()].bound()).isEqualTo(99.0);
        assertThat(quotas.limits("alice", "app")[QuotaType.REQUEST.ordinal()]).isNull();
        // another user and client id: <default> user with <default> client id
        assertThat(quotas.limits("bob", "other")[QuotaType.PRODUCE.ordinal()].bound()).isEqualTo(5.0);
    }

    @Test
    void aRequestWhoseQuotaTypesAreSetForNobodyLooksNothingUp() {
        LocalMetadataStore store = new LocalMetadataStore(dir);
        ClientQuotas quotas = new ClientQuotas(store, 11, 1000, Time.SYSTEM);
        set(store, new QuotaEntity("alice", null), "producer_byte_rate", 100.0);
        quotas.reload();
        // only a producer quota anywhere: fetches and other APIs resolve nothing (no key, no map lookup)
        assertThat(quotas.limitsFor(QuotaType.FETCH, "alice", "app")).isNull();
        assertThat(quotas.limitsFor(null, "alice", "app")).isNull();
        assertThat(quotas.resolvedClients()).isZero();
        assertThat(quotas.limitsFor(QuotaType.PRODUCE, "alice", "app")[QuotaType.PRODUCE.ordinal()].bound())
                .isEqualTo(100.0);
        assertThat(quotas.resolvedClients()).isEqualTo(1);
        // a request quota applies to every API: fetches look their limits up again
        set(store, new QuotaEntity(null, D), "request_percentage", 50.0);
        quotas.reload();
        assertThat(quotas.limitsFor(QuotaType.FETCH, "bob", "x")[QuotaType.REQUEST.ordinal()].bound()).isEqualTo(50.0);
        assertThat(quotas.limitsFor(null, "bob", "x")).isNotNull();
    }

    @Test
    void clientsShareARateAsKafkaGroupsThem() {
        LocalMetadataStore store = new LocalMetadataStore(dir);
        ClientQuotas quotas = new ClientQuotas(store, 11, 1000, Time.SYSTEM);
        set(store, new QuotaEntity("alice", null), "producer_byte_rate", 100.0);
        set(store, new QuotaEntity(null, "app"), "producer_byte_rate", 100.0);
        set(store, new QuotaEntity(null, D), "consumer_byte_rate", 100.0);
        quotas.reload();
        int p = QuotaType.PRODUCE.ordinal();
        int f = QuotaType.FETCH.ordinal();
        // a user quota: one rate for all the user's client ids
        assertThat(quotas.limits("alice", "a")[p].rate()).isSameAs(quotas.limits("alice", "b")[p].rate());
        // a client-id quota: one rate for all users of the client id
        assertThat(quotas.limits("bob", "app")[p].rate()).isSameAs(quotas.limits("carol", "app")[p].rate());
        // a default client-id quota: each client id its own
        assertThat(quotas.limits("bob", "x")[f].rate()).isNotSameAs(quotas.limits("bob", "y")[f].rate());
        assertThat(quotas.limits("bob", "x")[f].rate()).isSameAs(quotas.limits("carol", "x")[f].rate());
    }

    @Test
    void theRateIsMeasuredOverTheQuotaWindowAsKafkaDoes() {
        long now = 1_000_000;
        SampledRate rate = new SampledRate(11, 1000, now);
        // the first value is spread over samples - 1 windows at least
        assertThat(rate.record(10_000, now)).isEqualTo(1000.0);
        now += 10_500;
        assertThat(rate.rate(now)).isCloseTo(10_000 / 10.5, org.assertj.core.data.Offset.offset(0.01));
        // once the quota window (11 windows) has passed the value no longer counts
        now += 1_000;
        assertThat(rate.rate(now)).isZero();
    }

    private static void set(LocalMetadataStore store, QuotaEntity entity, String key, double value) {
        if (!entity.hasClientId()) {
            Map<String, String> configs = new java.util.TreeMap<>(store.userConfigs().getOrDefault(entity.user(), Map.of()));
            configs.put(key, Double.toString(value));
            store.setUserConfigs(entity.user(), configs);
        } else {
            Map<String, String> configs = new java.util.TreeMap<>(store.clientQuotaConfigs().getOrDefault(entity.path(), Map.of()));
            configs.put(key, Double.toString(value));
            store.setClientQuotaConfigs(entity.path(), configs);
        }
    }
}
