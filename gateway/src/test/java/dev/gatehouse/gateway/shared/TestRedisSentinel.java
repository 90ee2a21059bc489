package dev.gatehouse.gateway.shared;

import org.junit.jupiter.api.Assertions;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis watched by Sentinel for tests: a master, one replica of it, and {@code sentinels}
 * sentinels ({@code redis-server --sentinel}) that agree by a majority that the master is down one
 * second after it stops answering, then promote the replica. All on free loopback ports; every
 * process ends when closed, or when starting fails half way.
 */
public final class TestRedisSentinel implements AutoCloseable {
    public static final String MASTER = "gatehouse-master";

    private final List<TestRedis> processes = new ArrayList<>();
    private TestRedis master;
    private TestRedis replica;
    private final List<TestRedis> sentinels = new ArrayList<>();
    private String sentinelPassword;

    private TestRedisSentinel() {}

    public static TestRedisSentinel start(Path dir, int sentinels) throws IOException, InterruptedException {
        return start(dir, sentinels, null, null);
    }

    /** With {@code password} on the master and replica, and {@code sentinelPassword} on the sentinels (null: none). */
    public static TestRedisSentinel start(Path dir, int sentinels, String password, String sentinelPassword)
            throws IOException, InterruptedException {
        TestRedisSentinel set = new TestRedisSentinel();
        set.sentinelPassword = sentinelPassword;
        List<String> auth = password == null ? List.of() : List.of("--requirepass", password, "--masterauth", password);
        try {
            set.master = set.started(TestRedis.start(Files.createDirectories(dir.resolve("master")), auth));
            List<String> replicaOptions = new ArrayList<>(auth);
            replicaOptions.addAll(List.of("--replicaof", "127.0.0.1", String.valueOf(set.master.port())));
            set.replica = set.started(TestRedis.start(Files.createDirectories(dir.resolve("replica")), replicaOptions));
            for (int i = 0; i < sentinels; i++) {
                Path sentinelDir = Files.createDirectories(dir.resolve("sentinel-" + i));
                int port = TestRedis.freePorts(1)[0];
                Path conf = sentinelDir.resolve("sentinel.conf"); // a sentinel writes what it learns back into it
                Files.writeString(conf, """
                        port %d
                        bind 127.0.0.1
                        dir %s
                        sentinel monitor %s 127.0.0.1 %d %d
                        sentinel down-after-milliseconds %s 1000
                        sentinel failover-timeout %s 3000
                        """.formatted(port, sentinelDir, MASTER, set.master.port(), sentinels / 2 + 1, MASTER, MASTER)
                        + (password == null ? "" : "sentinel auth-pass " + MASTER + " " + password + "\n")
                        + (sentinelPassword == null ? "" : "requirepass " + sentinelPassword + "\n"));
                set.sentinels.add(set.started(TestRedis.launch(sentinelDir, "sentinel", port, List.of(conf.toString(), "--sentinel"))));
            }
            set.awaitEachSentinelKnowsTheWholeSet();
            return set;
        } catch (Throwable t) {
            set.close();
            throw t;
        }
    }

    private TestRedis started(TestRedis process) {
        processes.add(process);
        return process;
    }

    /** Until then a failover could not be agreed on, nor find the replica to promote. */
    private void awaitEachSentinelKnowsTheWholeSet() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (TestRedis sentinel : sentinels) {
            try (Jedis jedis = sentinel(sentinel)) {
                while (jedis.sentinelReplicas(MASTER).isEmpty() || jedis.sentinelSentinels(MASTER).size() < sentinels.size() - 1) {
                    if (System.nanoTime() > deadline) {
                        Assertions.fail("the sentinels did not find the replica and each other: " + jedis.sentinelMaster(MASTER));
                    }
                    Thread.sleep(100);
                }
            }
        }
    }

    private Jedis sentinel(TestRedis sentinel) {
        Jedis jedis = new Jedis("127.0.0.1", sentinel.port());
        if (sentinelPassword != null) {
            jedis.auth(sentinelPassword);
        }
        return jedis;
    }

    /** host:port of every sentinel, as {@code shared.sentinel.nodes} lists them. */
    public List<String> nodes() {
        return sentinels.stream().map(s -> "127.0.0.1:" + s.port()).toList();
    }

    public int replicaPort() {
        return replica.port();
    }

    /** The master's port as the first sentinel tells it now. */
    public int currentMasterPort() {
        try (Jedis jedis = sentinel(sentinels.getFirst())) {
            return HostAndPort.from(String.join(":", jedis.sentinelGetMasterAddrByName(MASTER))).getPort();
        }
    }

    /** Ends the master at once, as a crash would: the sentinels then promote the replica. */
    public void killMaster() throws InterruptedException {
        master.kill();
    }

    @Override
    public void close() throws InterruptedException {
        for (TestRedis process : processes.reversed()) {
            process.close();
        }
    }
}
