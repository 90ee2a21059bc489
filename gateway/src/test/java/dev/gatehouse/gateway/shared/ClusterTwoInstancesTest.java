package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.config.SharedConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Two instances sharing a real 3-master Redis Cluster ({@code shared.cluster}): the same sharing as with
 * one server, which holds only if every script's keys are in one slot (else the cluster refuses it with
 * CROSSSLOT and each instance counts on its own), and callers spread over every master.
 */
class ClusterTwoInstancesTest extends AbstractTwoInstancesTest {
    private TestRedisCluster cluster;

    @Override
    AutoCloseable startRedis(Path dir) throws Exception {
        cluster = TestRedisCluster.start(dir, 3);
        return cluster;
    }

    @Override
    SharedConfig.Servers servers() {
        return new SharedConfig.Cluster(cluster.nodes(), SharedConfig.Login.NONE);
    }

    @Test
    void everyCallersLimitIsExactWhicheverMasterHoldsIt() throws Exception {
        List<String> keys = IntStream.range(0, 12).mapToObj(i -> key(1, 1, 100.0)).toList(); // rpm, a slot, a budget: every script
        GatewayServer a = instance();
        GatewayServer b = instance();
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            assertEquals(200, send(a, key).statusCode());
            assertEquals(429, send(b, key).statusCode(), "caller " + i + "'s one request a minute, counted by both");
        }
        for (int node = 0; node < 3; node++) {
            assertTrue(cluster.keysAt(node) > 0, "callers' state on master " + node);
        }
    }

    @Test
    @Override
    void forgettingAModelDropsOnlyItsAnswers() throws Exception {
        forgettingAModelDropsOnlyItsAnswers(() -> {
            for (int node = 0; node < 3; node++) {
                assertTrue(cluster.keysAt(node) > 0, "answers on master " + node);
            }
        });
    }
}
