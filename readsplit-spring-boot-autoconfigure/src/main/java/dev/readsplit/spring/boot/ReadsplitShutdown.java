package dev.readsplit.spring.boot;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import java.time.Duration;

/**
 * Graceful shutdown in Boot's lifecycle: drain, then close. Its phase is below the web server's (which stops
 * taking requests and finishes the running ones first), so when it stops no new request arrives; it then waits,
 * up to {@code readsplit.shutdown.drain-timeout}, for the statements still running on any node (a scheduled job,
 * a late async task) before the context's destruction closes the pools (the data source's destroy method runs
 * after the beans that use it, such as the JPA EntityManagerFactory, are closed).
 */
final class ReadsplitShutdown implements SmartLifecycle {

    /** Below Boot's web server phases (graceful shutdown at DEFAULT_PHASE - 1024, stop at - 2048). */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;
    private static final Logger log = LoggerFactory.getLogger(ReadsplitShutdown.class);

    private final ReadsplitOperations operations;
    private final Duration drainTimeout;
    private volatile boolean running;
    private volatile boolean drained;

    ReadsplitShutdown(ReadsplitOperations operations, Duration drainTimeout) {
        this.operations = operations;
        this.drainTimeout = drainTimeout;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        int inFlight = operations.inFlight();
        while (inFlight > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            inFlight = operations.inFlight();
        }
        if (inFlight > 0) {
            log.warn("{}: {} statement(s) still running after the {} shutdown drain; closing the pools aborts them",
                    operations.dataSource().name(), inFlight, drainTimeout);
        } else {
            log.info("{}: drained for shutdown; the pools close with the context", operations.dataSource().name());
        }
        drained = inFlight == 0;
        running = false;
    }

    /** Whether the last stop found no statement running by its end. */
    boolean drained() {
        return drained;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
