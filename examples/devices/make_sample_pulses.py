"""Write examples/devices/sample_pulses.csv: pulse responses of hwsim's reram_softbounds
preset (configs/devices/reram_softbounds.yaml), 8 devices × 2 cycles × (300 up, 300 down),
seed 0, values rounded to 5 decimals — a stand-in for a measurement, made with hwsim's
own device physics (hwsim.fit.device_sim).

    python examples/devices/make_sample_pulses.py
"""
from pathlib import Path

from hwsim.fit import device_sim
from hwsim.fit.pulse_data import write_pulse_csv

PRESET, DEVICES, CYCLES, PULSES, SEED = "reram_softbounds", 8, 2, 300, 0


def main() -> None:
    out = Path(__file__).with_name("sample_pulses.csv")
    data = device_sim.simulate(device_sim.load(PRESET), DEVICES, CYCLES, PULSES, seed=SEED)
    comment = (f"Generated from hwsim's own '{PRESET}' device preset (not a measurement):\n"
               f"{DEVICES} devices x {CYCLES} cycles x ({PULSES} up, {PULSES} down) pulses, "
               f"seed {SEED}, by examples/devices/make_sample_pulses.py.\n"
               "direction 0 = a read before the first pulse; value = weight after the pulse.")
    write_pulse_csv(str(out), data, comment, digits=5)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
