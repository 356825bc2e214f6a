//! The physics of the reference vehicle, just enough to make its signals
//! plausible: speed from the scenario, gear and ignition from the state,
//! pedals from acceleration, a steering wheel that moves, a battery that
//! drains while driving and fills while charging.
//!
//! [`Model::values`] gives the physical values of a message's signals at a
//! time; messages it does not know get no values (their counters and
//! checksums are still filled in by the traffic generator).

use crate::scenario::{Scenario, VehicleState};

/// The state that evolves between frames.
#[derive(Clone, Debug)]
pub struct Model {
    last_t: f64,
    last_speed: f64,
    odometer_km: f64,
    state_of_charge: f64,
    locked: bool,
}

impl Default for Model {
    fn default() -> Self {
        Model { last_t: 0.0, last_speed: 0.0, odometer_km: 12_345.6, state_of_charge: 62.0, locked: true }
    }
}

impl Model {
    /// Advances the model to `t` seconds.
    pub fn advance(&mut self, scenario: &Scenario, t: f64) {
        if t <= self.last_t {
            return;
        }
        let (state, speed) = scenario.state_at(t);
        let dt = t - self.last_t;
        self.odometer_km += speed * dt / 3600.0;
        match state {
            VehicleState::Driving => self.state_of_charge = (self.state_of_charge - dt * speed / 36_000.0).max(5.0),
            VehicleState::Charging => self.state_of_charge = (self.state_of_charge + dt * 0.05).min(90.0),
            VehicleState::Parked => {}
        }
        self.last_speed = speed;
        self.last_t = t;
    }

    /// Records that the body bus got a lock request (the BCM reports it back).
    pub fn set_locked(&mut self, locked: bool) {
        self.locked = locked;
    }

    /// Physical values of `message`'s signals at `t` seconds.
    pub fn values(&self, scenario: &Scenario, message: &str, t: f64) -> Vec<(&'static str, f64)> {
        let (state, speed) = scenario.state_at(t);
        let accel = (scenario.state_at(t + 0.5).1 - scenario.state_at((t - 0.5).max(0.0)).1) / 3.6;
        let driving = state == VehicleState::Driving;
        let charging = state == VehicleState::Charging;
        let steering = if driving { 25.0 * (t * 0.3).sin() } else { 0.0 };
        match message {
            "VCU_Ignition" => {
                vec![("IgnitionState", if driving { 2.0 } else { 0.0 }), ("ReadyToDrive", f64::from(u8::from(driving)))]
            }
            "VCU_Speed" => vec![
                ("VehicleSpeed", round_to(speed, 0.01)),
                ("SpeedValid", 1.0),
                ("Odometer", round_to(self.odometer_km, 0.1)),
            ],
            "VCU_Gear" => vec![
                ("Gear", if driving { 3.0 } else { 0.0 }),
                ("GearValid", 1.0),
                ("ParkBrake", f64::from(u8::from(!driving))),
            ],
            "VCU_Pedals" => vec![
                ("AccelPedal", round_to(if driving { (10.0 + accel * 20.0).clamp(0.0, 100.0) } else { 0.0 }, 0.4)),
                ("BrakePressed", f64::from(u8::from(!driving || accel < -0.5))),
                ("BrakePressure", round_to(if accel < -0.5 { (-accel * 20.0).min(250.0) } else { 0.0 }, 0.1)),
            ],
            "EPS_Steering" => vec![
                ("SteeringAngle", round_to(steering, 0.1)),
                ("SteeringRate", round_to(if driving { 7.5 * (t * 0.3).cos() } else { 0.0 }, 0.5)),
                ("DriverTorque", round_to(if driving { 0.8 * (t * 0.3).cos() } else { 0.0 }, 0.01)),
            ],
            "DAS_SteeringCmd" => vec![
                ("SteeringAngleRequest", round_to(steering, 0.1)),
                ("SteeringControlActive", f64::from(u8::from(driving && speed > 30.0))),
            ],
            "DI_TorqueCmd" => {
                vec![("TorqueRequest", round_to((accel * 80.0).clamp(-500.0, 500.0), 0.1)), ("TorqueLimit", 400.0)]
            }
            "DI_Status" => vec![
                ("MotorTorque", round_to((accel * 80.0).clamp(-600.0, 600.0), 0.1)),
                ("MotorSpeed", (speed * 60.0).round()),
                ("InverterTemp", if driving { 55.0 } else { 25.0 }),
            ],
            "BMS_Status" => vec![
                ("PackVoltage", round_to(350.0 + self.state_of_charge, 0.1)),
                (
                    "PackCurrent",
                    round_to(
                        if charging {
                            -32.0
                        } else if driving {
                            speed * 1.5
                        } else {
                            0.5
                        },
                        0.1,
                    ),
                ),
                ("StateOfCharge", round_to(self.state_of_charge, 0.1)),
                ("ChargingState", if charging { 1.0 } else { 0.0 }),
                ("CellTempMax", if driving || charging { 32.0 } else { 21.0 }),
                ("CellTempMin", if driving || charging { 28.0 } else { 20.0 }),
                ("CellVoltageMax", round_to(3.6 + self.state_of_charge / 200.0, 0.001)),
                ("CellVoltageMin", round_to(3.58 + self.state_of_charge / 200.0, 0.001)),
                ("IsolationResistance", 5000.0),
                ("ChargeLimit", 90.0),
            ],
            "BCM_DoorStatus" => vec![("LockState", f64::from(u8::from(self.locked)))],
            "HVAC_Status" => vec![("CabinTemp", 21.5), ("OutsideTemp", 12.0), ("FanSpeedActual", 2.0)],
            _ => Vec::new(),
        }
    }
}

fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}
