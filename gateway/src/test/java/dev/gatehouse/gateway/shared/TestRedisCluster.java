package dev.gatehouse.gateway.shared;

import org.junit.jupiter.api.Assertions;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * A real Redis Cluster for tests: {@code masters} redis-servers with cluster mode on, on free loopback
 * ports (the cluster bus too), the 16384 slots split evenly between them, no replicas. Every process
 * ends when closed, or when starting fails half way.
 */
public final class TestRedisCluster implements AutoCloseable {
    private final List<TestRedis> nodes = new ArrayList<>();

    private TestRedisCluster() {}

    public static TestRedisCluster start(Path dir, int masters) throws IOException, InterruptedException {
        return start(dir, Arrays.stream(TestRedis.freePorts(masters)).boxed().toList());
    }

    /** One master on each of {@code ports}. */
    public static TestRedisCluster start(Path dir, List<Integer> ports) throws IOException, InterruptedException {
        TestRedisCluster cluster = new TestRedisCluster();
        int masters = ports.size();
        try {
            List<Integer> buses = new ArrayList<>();
            for (int i = 0; i < masters; i++) {
                Path nodeDir = Files.createDirectories(dir.resolve("node-" + i));
                int[] bus = TestRedis.freePorts(1);
                cluster.nodes.add(TestRedis.launch(nodeDir, "redis", ports.get(i), List.of("--port", String.valueOf(ports.get(i)),
                        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", nodeDir.toString(),
                        "--cluster-enabled", "yes", "--cluster-config-file", nodeDir.resolve("nodes.conf").toString(),
                        "--cluster-port", String.valueOf(bus[0]), "--cluster-node-timeout", "5000")));
                buses.add(bus[0]);
            }
            for (int i = 0; i < masters; i++) {
                try (Jedis node = cluster.jedis(i)) {
                    node.clusterAddSlots(IntStream.range(16384 * i / masters, 16384 * (i + 1) / masters).toArray());
                    if (i > 0) { // the bus port is not port + 10000 here, so MEET is told it
                        node.sendCommand(Protocol.Command.CLUSTER, "MEET", "127.0.0.1",
                                String.valueOf(cluster.nodes.get(0).port()), String.valueOf(buses.get(0)));
                    }
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int i = 0; i < masters; i++) {
                try (Jedis node = cluster.jedis(i)) {
                    while (!node.clusterInfo().contains("cluster_state:ok")
                            || !node.clusterInfo().contains("cluster_known_nodes:" + masters)) {
                        if (System.nanoTime() > deadline) {
                            Assertions.fail("the cluster did not form: " + node.clusterInfo());
                        }
                        Thread.sleep(100);
                    }
                }
            }
            return cluster;
        } catch (Throwable t) {
            cluster.close();
            throw t;
        }
    }

    private Jedis jedis(int node) {
        return new Jedis("127.0.0.1", nodes.get(node).port());
    }

    /** host:port of every node, as {@code shared.cluster.nodes} lists them. */
    public List<String> nodes() {
        return nodes.stream().map(n -> "127.0.0.1:" + n.port()).toList();
    }

    /** How many keys node {@code i} holds. */
    public long keysAt(int node) {
        try (Jedis jedis = jedis(node)) {
            return jedis.dbSize();
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (TestRedis node : nodes) {
            node.close();
        }
    }
}
