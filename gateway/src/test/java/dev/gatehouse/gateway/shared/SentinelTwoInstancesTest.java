package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gatehouse.gateway.config.SharedConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Two instances sharing a Redis master watched by three sentinels ({@code shared.sentinel}): the same
 * sharing as with one server, and when the master dies the sentinels promote its replica and both
 * instances follow it without a restart, meanwhile counting on their own (on-redis-down: local) or
 * refusing limited requests (closed).
 */
class SentinelTwoInstancesTest extends AbstractTwoInstancesTest {
    private TestRedisSentinel sentinels;

    @Override
    AutoCloseable startRedis(Path dir) throws Exception {
        sentinels = TestRedisSentinel.start(dir, 3);
        return sentinels;
    }

    @Override
    SharedConfig.Servers servers() {
        return new SharedConfig.Sentinel(TestRedisSentinel.MASTER, sentinels.nodes(), SharedConfig.Login.NONE, null);
    }

    @Test
    void afterTheMasterDiesBothInstancesShareTheLimitOnThePromotedReplica() throws Exception {
        String before = key(2, null, null);
        String after = key(3, null, null);
        List<String> rounds = IntStream.range(0, 200).mapToObj(i -> key(2, null, null)).toList(); // made before the instances read keys
        GatewayServer a = instance();
        GatewayServer b = instance();
        assertEquals(200, send(a, before).statusCode());
        assertEquals(200, send(b, before).statusCode());
        assertEquals(429, send(a, before).statusCode(), "shared through the first master");

        sentinels.killMaster();
        long killed = System.nanoTime();
        long deadline = killed + TimeUnit.SECONDS.toNanos(40);
        for (int round = 0; ; round++) {
            // a new key each round, rpm 2: a, b, a is 200, 200, 429 only when all three were counted in Redis
            String key = rounds.get(round);
            List<Integer> statuses = List.of(timed(a, key), timed(b, key), timed(a, key));
            assertTrue(statuses.stream().allMatch(s -> s == 200 || s == 429), "while failing over: counted, never failed " + statuses);
            if (statuses.equals(List.of(200, 200, 429))) {
                break;
            }
            if (System.nanoTime() > deadline || round == rounds.size() - 1) {
                fail("not shared again 40 s after the master died: " + statuses);
            }
            Thread.sleep(150);
        }
        System.out.printf("sentinel failover: limits shared again %.1f s after the master died%n",
                (System.nanoTime() - killed) / 1e9);
        assertEquals(sentinels.replicaPort(), sentinels.currentMasterPort(), "the replica was promoted");

        assertEquals(200, send(a, after).statusCode());
        assertEquals(200, send(b, after).statusCode());
        assertEquals(200, send(a, after).statusCode());
        HttpResponse<String> fourth = send(b, after);
        assertEquals(429, fourth.statusCode(), fourth.body());
        assertTrue(error(fourth).path("message").asText().contains("Limit 3, Used 3"), fourth.body());
    }

    @Test
    void withOnRedisDownClosedRequestsDuringTheFailoverAreRefusedThenServedByTheNewMaster() throws Exception {
        String key = key(1000, null, null);
        GatewayServer a = instance(shared(servers(), SharedConfig.OnRedisDown.CLOSED));
        assertEquals(200, send(a, key).statusCode());

        sentinels.killMaster();
        List<Integer> statuses = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        do {
            assertTrue(System.nanoTime() < deadline, "not served 40 s after the master died: " + statuses);
            statuses.add(timed(a, key));
            Thread.sleep(100);
        } while (statuses.getLast() != 200);
        assertEquals(503, statuses.getFirst(), "refused while no master answers: " + statuses);
        assertTrue(statuses.stream().allMatch(s -> s == 503 || s == 200), statuses.toString());
    }

    /** A request's status; it must be answered at once, whatever Redis is doing. */
    private int timed(GatewayServer server, String key) throws Exception {
        long start = System.nanoTime();
        int status = send(server, key).statusCode();
        long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(millis < 3_000, "waited " + millis + " ms on Redis");
        return status;
    }
}
