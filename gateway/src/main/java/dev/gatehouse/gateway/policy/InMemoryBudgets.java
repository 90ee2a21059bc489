package dev.gatehouse.gateway.policy;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.UsageLog;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.DoubleSupplier;
import java.util.logging.Logger;

/**
 * {@link Budgets} for this instance: spend is counted in memory and read from the usage log when a
 * key is first seen (the request waits for that read, up to the store's timeout), and again in the background when the period turns
 * over and every {@link #REREAD}: a restart keeps what was spent, servers sharing one PostgreSQL store
 * see each other's spend within that time, and a store that stops answering never holds up a key
 * whose spend is known. A read never lowers the spend counted here (a usage row that could not be
 * written is still spent).
 */
public final class InMemoryBudgets implements Budgets {
    private static final Logger LOG = Logger.getLogger(InMemoryBudgets.class.getName());
    /** How stale a key's spend may get before the log is read again. */
    static final Duration REREAD = Duration.ofSeconds(5);

    /** One key's money in its current period; every field guarded by the account. */
    private static final class Account {
        final CompletableFuture<Void> firstRead = new CompletableFuture<>();
        Instant periodStart;
        double spent; // settled: as read from the log, plus what ended here since
        double reserved; // held by requests in flight
        Instant readAt;
        boolean reading;
        double settledWhileReading; // what ended here while a read ran: its rows may be missing from it
    }

    /** What one request holds of its key's account until it ends. */
    private static final class Held implements Reservation {
        private final Account account;
        private final double held;
        private boolean settled; // guarded by account

        private Held(Account account, double held) {
            this.account = account;
            this.held = held;
        }

        @Override
        public void settle(double costUsd) {
            synchronized (account) {
                if (settled) {
                    return;
                }
                settled = true;
                account.reserved -= held;
                account.spent += costUsd;
                if (account.reading) {
                    account.settledWhileReading += costUsd;
                }
            }
        }
    }

    private final UsageLog log;
    private final Clock clock;
    private final Duration storeWait;
    private final Map<String, Account> accounts = new ConcurrentHashMap<>();
    // off the request threads: a read that waits on a hung store holds up only further reads
    private final ExecutorService reads = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("budget-reads").daemon().factory());

    /**
     * {@code log} null keeps spend in memory only (tests, or a server without a store); {@code storeWait}
     * is how long a request waits for the spend of a key seen for the first time.
     */
    public InMemoryBudgets(UsageLog log, Clock clock, Duration storeWait) {
        this.log = log;
        this.clock = clock;
        this.storeWait = storeWait;
    }

    @Override
    public Reservation reserve(KeyStore.Key key, DoubleSupplier ceiling) {
        if (key == null || key.spec().maxBudgetUsd() == null) {
            return Reservation.NONE;
        }
        double max = key.spec().maxBudgetUsd();
        double most = ceiling.getAsDouble();
        Account a = account(key);
        synchronized (a) {
            double committed = a.spent + a.reserved;
            if (committed < max && committed + most <= max) {
                a.reserved += most;
                return new Held(a, most);
            }
            throw Budgets.quotaExceeded(key, clock.instant(), a.spent, a.reserved, most);
        }
    }

    @Override
    public double spent(KeyStore.Key key) {
        Account a = account(key);
        synchronized (a) {
            return a.spent;
        }
    }

    /**
     * The key's account, in the period holding now. A key seen for the first time waits for its spend
     * to be read (a 503 when the store does not answer within {@code storeWait}; the next request tries
     * again); a known key never waits: a new period starts at 0, and stale spend is read in the background.
     */
    private Account account(KeyStore.Key key) {
        Instant now = clock.instant();
        Instant start = Budgets.periodStart(key, now);
        Account fresh = new Account();
        Account a = accounts.putIfAbsent(key.id(), fresh);
        if (a == null) {
            a = fresh;
            synchronized (a) {
                a.periodStart = start;
                startRead(key, a);
            }
        }
        try {
            a.firstRead.get(storeWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (a.firstRead.isCompletedExceptionally()) {
                accounts.remove(key.id(), a);
            }
            throw new ApiException(503, "server_error", "store_unavailable", null,
                    "This key's spend cannot be read from the store now, so its budget cannot be checked; retry shortly.", 5);
        }
        synchronized (a) {
            if (!a.periodStart.equals(start)) { // a new period: nothing spent in it yet, as far as this server knows
                a.periodStart = start;
                a.spent = 0;
                startRead(key, a);
            } else if (!now.isBefore(a.readAt.plus(REREAD))) {
                startRead(key, a);
            }
        }
        return a;
    }

    /** Reads the key's spend in its current period from the log, off this thread; call holding {@code a}. */
    private void startRead(KeyStore.Key key, Account a) {
        if (log == null) { // nothing to read: spend lives in memory only
            a.readAt = clock.instant();
            a.firstRead.complete(null);
            return;
        }
        if (a.reading) {
            return;
        }
        a.reading = true;
        a.settledWhileReading = 0;
        a.readAt = clock.instant(); // a failed read is tried again after REREAD, not on every request
        Instant start = a.periodStart;
        try {
            reads.execute(() -> read(key, a, start));
        } catch (RejectedExecutionException e) { // closed: keep counting in memory
            a.reading = false;
            a.firstRead.complete(null);
        }
    }

    private void read(KeyStore.Key key, Account a, Instant start) {
        double read = 0;
        RuntimeException failed = null;
        try {
            log.flush(storeWait); // this server's own rows first, so the sum holds them
            read = log.spent(key.id(), start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed = new IllegalStateException("interrupted");
        } catch (RuntimeException e) {
            failed = e;
        }
        synchronized (a) {
            a.reading = false;
            if (failed == null && a.periodStart.equals(start)) {
                // rows of requests that ended during the read may be in the sum too: counted twice until the next read
                a.spent = Math.max(a.spent, read + a.settledWhileReading);
            }
            a.settledWhileReading = 0;
        }
        if (failed == null) {
            a.firstRead.complete(null);
        } else if (!a.firstRead.completeExceptionally(failed)) {
            LOG.warning("cannot read the spend of key " + key.id() + " (" + failed.getMessage()
                    + "); counting in memory, trying again in " + REREAD.toSeconds() + " s");
        }
    }

    /** Stops reading spend; waits a moment for a read under way (it ends on the store's timeout at worst). */
    @Override
    public void close() {
        reads.shutdownNow();
        try {
            reads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
