"""hwsim.fit — bring your own device (layer 5).

Measured pulse responses (a CSV of ``device,pulse,direction,value`` rows, see
:mod:`hwsim.fit.pulse_data`) → a device model fitted per device
(:mod:`hwsim.fit.models`, :mod:`hwsim.fit.models_shape`, :mod:`hwsim.fit.models_response`,
:mod:`hwsim.fit.piecewise`),
chosen by an information criterion (:mod:`hwsim.fit.select`), written as a device YAML
that ``device: path.yaml`` loads as it is (:mod:`hwsim.fit.writer`); device plots and
statistics (:mod:`hwsim.fit.plot`); the ``hwsim device`` command
(:mod:`hwsim.fit.command`).  Everything that runs hwsim's own device physics goes
through :mod:`hwsim.fit.device_sim`.
"""
