package dev.gatehouse.gateway.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.logging.Logger;

/**
 * One connection to the {@link Database}, used by one thread at a time. When a statement fails because the
 * connection itself is gone (PostgreSQL restarted, the network dropped), it reconnects and runs the work
 * once more, so a server outage costs the requests made during it, not every request after it.
 */
public final class StoreConnection implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(StoreConnection.class.getName());

    /** Statements to run on the connection; in a transaction when the connection does not auto-commit. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private final Database database;
    private final boolean autoCommit;
    private Connection connection; // guarded by this; replaced when broken

    private StoreConnection(Database database, boolean autoCommit, Connection connection) {
        this.database = database;
        this.autoCommit = autoCommit;
        this.connection = connection;
    }

    /**
     * Connects and runs {@code schema} (CREATE ... IF NOT EXISTS). With {@code autoCommit} false each
     * {@link #run} must commit; a failed one is rolled back here.
     */
    public static StoreConnection open(Database database, boolean autoCommit, Work<?> schema) throws SQLException {
        Connection c = database.connect();
        try {
            c.setAutoCommit(autoCommit);
            StoreConnection opened = new StoreConnection(database, autoCommit, c);
            opened.run(schema);
            return opened;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public synchronized <T> T run(Work<T> work) throws SQLException {
        try {
            return work.run(connection);
        } catch (SQLException e) {
            if (!broken()) {
                rollback();
                throw e;
            }
            LOG.warning("lost the connection to " + database + " (" + e.getMessage() + "); reconnecting");
            reconnect();
            try {
                return work.run(connection);
            } catch (SQLException again) {
                rollback();
                throw again;
            }
        }
    }

    private boolean broken() {
        try {
            return !connection.isValid(2);
        } catch (SQLException e) {
            return true;
        }
    }

    private void reconnect() throws SQLException {
        try {
            connection.close();
        } catch (SQLException e) {
            // it is already gone
        }
        Connection c = database.connect();
        c.setAutoCommit(autoCommit);
        connection = c;
    }

    private void rollback() {
        if (autoCommit) {
            return;
        }
        try {
            connection.rollback();
        } catch (SQLException e) {
            LOG.warning("rollback on " + database + " failed: " + e.getMessage());
        }
    }

    @Override
    public synchronized void close() throws SQLException {
        connection.close();
    }
}
