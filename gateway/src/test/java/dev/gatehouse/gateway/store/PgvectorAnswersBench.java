package dev.gatehouse.gateway.store;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.config.SemanticCacheConfig;
import dev.gatehouse.gateway.shared.AnswerJson;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The semantic cache's PostgreSQL store (scripts/bench-semantic-cache pgvector): lookups and stores through
 * {@link PgvectorAnswers} against N stored 384-float vectors (all-MiniLM-L6-v2's size), all in one
 * conversation context, in PGlite (PostgreSQL and pgvector compiled to WASM, see {@link TestPgvector}).
 * The stored vectors cluster by topic and subject as questions' embeddings do (random vectors, with no
 * structure at all, are the worst case for a graph index). "Near" questions are stored vectors moved to a
 * cosine similarity of about 0.97 (above the 0.95 default threshold: each should hit, so the hit rate is
 * the HNSW search's recall where it matters); "unrelated" ones are new random vectors (misses). A store is the insert plus the delete of the oldest answer of a
 * full cache.
 */
public final class PgvectorAnswersBench {
    private static final int DIMENSIONS = 384;
    private static final String TABLE = "gatehouse_semantic_answers_" + DIMENSIONS;

    public static void main(String[] args) throws Exception {
        int lookups = Integer.getInteger("bench.lookups", 500);
        int stores = Integer.getInteger("bench.stores", 200);
        List<ChatEvent> answer = List.of(new ChatEvent.Delta(0, "Paris is the capital and largest city of France. ".repeat(4), null),
                new ChatEvent.Finish(0, FinishReason.STOP));
        Path dir = Files.createTempDirectory("bench-pgvector");
        List<String> rows = new ArrayList<>();
        List<String> builds = new ArrayList<>();
        try (TestPgvector postgres = TestPgvector.start(dir)) {
            Database database = Database.of(postgres.store().withTimeouts(5_000, 600_000)); // the index build takes minutes
            for (int entries : Arrays.stream(System.getProperty("bench.entries", "100000").split(","))
                    .mapToInt(Integer::parseInt).toArray()) {
                SemanticCacheConfig config = new SemanticCacheConfig(List.of("m"), "e", 0.95, Duration.ofHours(1), entries,
                        false, false, false);
                SplittableRandom random = new SplittableRandom(42);
                // Gatehouse's table filled in bulk: one index build over the rows is far quicker than N inserts
                long filling = System.nanoTime();
                try (Connection c = database.connect(); Statement s = c.createStatement()) {
                    s.execute("DROP TABLE IF EXISTS " + TABLE);
                    try (PgvectorAnswers maker = PgvectorAnswers.open(database, config, Clock.systemUTC())) {
                        maker.nearest(randomUnit(random), 7, 0.95);
                    }
                    s.execute("DROP INDEX " + TABLE + "_embedding");
                    s.execute("SELECT setseed(0.42)");
                    // questions as embeddings cluster: 100 topics, 10 subjects in each, answers around their subject
                    // (cosine about 0.92 with the subject's others, 0.68 with the topic's, 0 across topics)
                    s.execute("CREATE TEMP TABLE bench_topic AS SELECT g.i, " + noise(1.0) + " AS v FROM generate_series(0, 99) AS g(i)");
                    s.execute("CREATE TEMP TABLE bench_subject AS SELECT g.i, t.v + " + noise(0.6)
                            + " AS v FROM generate_series(0, 999) AS g(i) JOIN bench_topic t ON t.i = g.i % 100");
                    try (PreparedStatement p = c.prepareStatement("INSERT INTO " + TABLE
                            + " (context, embedding, answer, created_at, expires_at) SELECT 7, b.v + " + noise(0.35)
                            + ", ?, now(), now() + interval '1 hour' FROM generate_series(0, ? - 1) AS g(i)"
                            + " JOIN bench_subject b ON b.i = g.i % 1000")) {
                        p.setBytes(1, AnswerJson.write(answer));
                        p.setInt(2, entries);
                        p.executeUpdate();
                    }
                    s.execute("DROP TABLE bench_topic, bench_subject");
                    // PGlite is one session for every connection: this holds for the index Gatehouse builds below
                    s.execute("SET maintenance_work_mem = '1GB'");
                }
                System.err.printf("filled %,d rows in %.0f s%n", entries, (System.nanoTime() - filling) / 1e9);
                long started = System.nanoTime();
                PgvectorAnswers answers = PgvectorAnswers.open(database, config, Clock.systemUTC());
                answers.nearest(randomUnit(random), 7, 0.95); // makes the index again, as Gatehouse makes it
                double buildSeconds = (System.nanoTime() - started) / 1e9;
                List<float[]> stored = new ArrayList<>();
                try (Connection c = database.connect(); Statement s = c.createStatement()) {
                    s.execute("ANALYZE " + TABLE); // what autovacuum does on a server
                    try (ResultSet r = s.executeQuery("SELECT embedding::text FROM " + TABLE + " ORDER BY random() LIMIT " + lookups)) {
                        while (r.next()) {
                            stored.add(parse(r.getString(1)));
                        }
                    }
                }
                for (int i = 0; i < 50; i++) { // warm the JIT and the connection pool
                    answers.nearest(randomUnit(random), 7, 0.95);
                }
                // the search's breadth: pgvector's default 40 (Gatehouse's), or others to compare; PGlite's one
                // session makes this SET hold for the store's pooled connection too
                for (int efSearch : Arrays.stream(System.getProperty("bench.ef-search", "40").split(","))
                        .mapToInt(Integer::parseInt).toArray()) {
                    try (Connection c = database.connect(); Statement s = c.createStatement()) {
                        s.execute("SET hnsw.ef_search = " + efSearch);
                    }
                    int[] hits = new int[1];
                    long[] near = time(stored.size(), i -> {
                        if (answers.nearest(near(stored.get(i), random), 7, 0.95).answer() != null) {
                            hits[0]++;
                        }
                    });
                    long[] unrelated = time(lookups, i -> answers.nearest(randomUnit(random), 7, 0.95));
                    rows.add(String.format("| %,d | %d | %s | %d of %d | %s |", entries, efSearch, percentiles(near), hits[0],
                            stored.size(), percentiles(unrelated)));
                }
                long[] store = time(stores, i -> answers.add(randomUnit(random), 7, answer));
                builds.add(String.format("| %,d | %.0f s | %s |", entries, buildSeconds, percentiles(store)));
                answers.close();
            }
        }
        System.out.println("| stored answers | hnsw.ef_search | near question (hit): p50 / p99 ms | hits | unrelated question (miss): p50 / p99 ms |");
        System.out.println("|---|---|---|---|---|");
        rows.forEach(System.out::println);
        System.out.println();
        System.out.println("| stored answers | HNSW index build | store (insert + trim): p50 / p99 ms |");
        System.out.println("|---|---|---|");
        builds.forEach(System.out::println);
    }

    /** SQL for a new random vector, uniform in [-scale/2, scale/2) in each dimension, for each row of {@code g}. */
    private static String noise(double scale) {
        return "(SELECT array_agg(" + scale + " * (random() - 0.5)) FROM generate_series(1, " + DIMENSIONS + ") WHERE g.i >= 0)::vector";
    }

    private interface Step {
        void run(int i) throws Exception;
    }

    private static long[] time(int n, Step step) throws Exception {
        long[] nanos = new long[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            step.run(i);
            nanos[i] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        return nanos;
    }

    private static String percentiles(long[] sorted) {
        return String.format("%.2f / %.2f", sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6);
    }

    /** {@code v} moved by a random step to a cosine similarity of about 0.97. */
    private static float[] near(float[] v, SplittableRandom random) {
        float[] u = unit(v);
        float[] moved = new float[u.length];
        for (int i = 0; i < u.length; i++) {
            moved[i] = u[i] + (float) (random.nextGaussian() * 0.0128); // 1 / sqrt(1 + 384 * 0.0128^2) = 0.97
        }
        return unit(moved);
    }

    private static float[] randomUnit(SplittableRandom random) {
        float[] v = new float[DIMENSIONS];
        for (int i = 0; i < DIMENSIONS; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return unit(v);
    }

    private static float[] unit(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += (double) x * x;
        }
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / Math.sqrt(norm));
        }
        return out;
    }

    /** pgvector's text form, {@code [0.1,-0.2,...]}. */
    private static float[] parse(String text) {
        String[] parts = text.substring(1, text.length() - 1).split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            v[i] = Float.parseFloat(parts[i]);
        }
        return v;
    }
}
