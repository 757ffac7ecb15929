/** The machine the figures come from. */
import * as os from "os";

export interface MachineSection {
    cores: number;
    memoryMiB: number;
    cpuModel: string;
    /** 1, 5 and 15 minute load averages when the bench started: how busy the shared machine was. */
    loadAverageAtStart: number[];
    platform: string;
    note: string;
}

export const NOISY_MACHINE_NOTE = "All figures come from one noisy shared machine (other work runs beside the bench): compare them with each other, not with other machines; medians of several runs damp the noise but do not remove it.";

export function machineSection(info: { cpus: { model: string }[]; totalmem: number; loadavg: number[]; platform: string; release: string }): MachineSection {
    const models = [...new Set(info.cpus.map((c) => c.model.trim()))];
    return {
        cores: info.cpus.length,
        memoryMiB: Math.round(info.totalmem / (1 << 20)),
        cpuModel: models.join(", ") || "unknown",
        loadAverageAtStart: info.loadavg.map((l) => Math.round(l * 100) / 100),
        platform: `${info.platform} ${info.release}`,
        note: NOISY_MACHINE_NOTE,
    };
}

export function currentMachine(): MachineSection {
    return machineSection({ cpus: os.cpus(), totalmem: os.totalmem(), loadavg: os.loadavg(), platform: os.platform(), release: os.release() });
}
