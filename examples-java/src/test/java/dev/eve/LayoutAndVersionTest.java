package dev.eve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The struct layouts match eve.h on LP64, and the version and status functions answer. */
class LayoutAndVersionTest {
    @Test
    void structLayoutsMatchTheHeader() {
        assertEquals(16, Native.EVE_BYTES.byteSize());
        assertEquals(0, Native.BYTES_DATA);
        assertEquals(8, Native.BYTES_LEN);
        assertEquals(40, Native.EVE_OP.byteSize());
        assertEquals(0, Native.OP_KIND);
        assertEquals(8, Native.OP_KEY);
        assertEquals(24, Native.OP_VALUE);
        assertEquals(24, Native.EVE_COMMIT.byteSize());
        assertEquals(16, Native.COMMIT_CHANGED);
        assertEquals(24, Native.EVE_OPEN_OPTIONS.byteSize());
        assertEquals(4, Native.OPTIONS_READER_SLOTS);
        assertEquals(8, Native.OPTIONS_MAX_SIZE);
        assertEquals(16, Native.OPTIONS_MODE);
        assertEquals(14 * 8, Native.EVE_STATS.byteSize());
        assertEquals(16, Native.EVE_RECLAIM_REPORT.byteSize());
        assertEquals(40, Native.EVE_SWEEP_REPORT.byteSize());
        assertEquals(8, Native.EVE_OP.byteAlignment());
        assertEquals(72, Native.EVE_DATOM.byteSize());
        assertEquals(0, Native.DATOM_E);
        assertEquals(8, Native.DATOM_A);
        assertEquals(16, Native.DATOM_T);
        assertEquals(24, Native.DATOM_M);
        assertEquals(32, Native.DATOM_VALUE_TYPE);
        assertEquals(40, Native.DATOM_INT_VALUE);
        assertEquals(48, Native.DATOM_DOUBLE_VALUE);
        assertEquals(56, Native.DATOM_BYTES);
        assertEquals(8, Native.EVE_DATOM.byteAlignment());
        assertEquals(32, Native.EVE_TX_REPORT.byteSize());
        assertEquals(0, Native.TX_REPORT_T);
        assertEquals(8, Native.TX_REPORT_DATOMS);
        assertEquals(16, Native.TX_REPORT_RETRIES);
        assertEquals(24, Native.TX_REPORT_TEMPIDS);
        assertEquals(48, Native.EVE_NODE.byteSize());
        assertEquals(0, Native.NODE_VALUE_TYPE);
        assertEquals(4, Native.NODE_COUNT);
        assertEquals(8, Native.NODE_FIRST);
        assertEquals(16, Native.NODE_INT_VALUE);
        assertEquals(24, Native.NODE_DOUBLE_VALUE);
        assertEquals(32, Native.NODE_BYTES);
        assertEquals(8, Native.EVE_NODE.byteAlignment());
        assertEquals(40, Native.EVE_YIN_RESULT.byteSize());
        assertEquals(32, Native.YIN_RESULT_VALUE_EDN);
        assertEquals(64, Native.EVE_YIN_AGENT_INFO.byteSize());
        assertEquals(40, Native.YIN_AGENT_WAIT);
        assertEquals(48, Native.YIN_AGENT_RESULT_EDN);
        assertEquals(56, Native.YIN_AGENT_ERROR);
        assertEquals(32, Native.EVE_YIN_WORK_REPORT.byteSize());
    }

    @Test
    void versions() {
        String version = Eve.version();
        assertEquals(Eve.versionMajor() + "." + Eve.versionMinor() + "." + Eve.versionPatch(), version);
        assertTrue(version.matches("\\d+\\.\\d+\\.\\d+"), version);
    }

    @Test
    void statusNames() {
        assertEquals("EVE_OK", Eve.statusName(Status.OK));
        assertEquals("EVE_ERR_INVALID_ARGUMENT", Eve.statusName(Status.ERR_INVALID_ARGUMENT));
        assertEquals("EVE_ERR_NULL_POINTER", Eve.statusName(Status.ERR_NULL_POINTER));
        assertEquals("EVE_ERR_IO", Eve.statusName(Status.ERR_IO));
        assertEquals("EVE_ERR_NOT_A_SLAB", Eve.statusName(Status.ERR_NOT_A_SLAB));
        assertEquals("EVE_ERR_VERSION", Eve.statusName(Status.ERR_VERSION));
        assertEquals("EVE_ERR_CORRUPT", Eve.statusName(Status.ERR_CORRUPT));
        assertEquals("EVE_ERR_FULL", Eve.statusName(Status.ERR_FULL));
        assertEquals("EVE_ERR_BUSY", Eve.statusName(Status.ERR_BUSY));
        assertEquals("EVE_ERR_NOT_FOUND", Eve.statusName(Status.ERR_NOT_FOUND));
        assertEquals("EVE_ERR_READ_ONLY", Eve.statusName(Status.ERR_READ_ONLY));
        assertEquals("EVE_ERR_WRONG_KIND", Eve.statusName(Status.ERR_WRONG_KIND));
        assertEquals("EVE_ERR_EXHAUSTED", Eve.statusName(Status.ERR_EXHAUSTED));
        assertEquals("EVE_ERR_INTERNAL", Eve.statusName(Status.ERR_INTERNAL));
        assertEquals("EVE_UNKNOWN_STATUS", Eve.statusName(14));
        assertEquals("EVE_UNKNOWN_STATUS", Eve.statusName(-1));
    }

    @Test
    void lastErrorMessageIsPerThreadAndSetByFailures() throws Exception {
        try (Slab slab = Slab.openAnonymous()) {
            int raw = slab.root("raw");
            EveException e = org.junit.jupiter.api.Assertions.assertThrows(EveException.class, () -> slab.map("raw"));
            assertEquals(e.errorMessage(), Eve.lastErrorMessage());
            assertTrue(!e.errorMessage().isEmpty());
            assertTrue(e.getMessage().contains("EVE_ERR_WRONG_KIND"), e.getMessage());
            String[] other = new String[1];
            Thread thread = Thread.ofPlatform().start(() -> other[0] = Eve.lastErrorMessage());
            thread.join();
            assertEquals("", other[0]);
            assertEquals(0, slab.load(raw));
        }
    }
}
