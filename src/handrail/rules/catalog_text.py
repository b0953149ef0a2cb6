"""Plain-language summaries of each catalog code and its boundaries to neighbouring codes.

Written in our own words for clinicians and billers: no AMA CPT descriptor text (not even
the CMS short names in the PPRRVU files).

Sources of the facts stated here:
- Timed vs untimed reporting: CMS Pub 100-04 ch.5 §20.2.
- Status indicators (97010 status B bundled; 97014 status I, Medicare pays G0283): CMS PFS
  relative value files RVU25D / RVU26C.
- 97535 boundaries (patient present; caregiver-only training is 97550-97552; 97110, 97530,
  97537 neighbours; transfers inside a toileting or bathing routine stay 97535): Handrail
  product reference, "97535 boundaries".
- Caregiver training 97550-97552 (patient absent, from 2024-01-01, chosen by number of
  patients represented): CY2024 PFS final rule; minimum minutes from secondary sources,
  unverified (see `catalog.SOURCE_CAREGIVER_CODES`).
- NCCI pairs named below (97140/97530 and PT evaluations/97140, modifier indicator 1;
  97164 with treatment codes): CMS "Proper use of modifier 59" example 9 and secondary
  sources (APTA 2020); effective dates unverified.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeText:
    summary: str
    boundaries: tuple[str, ...]


# Time-rule phrases every summary ends with, so a reader can tell at a glance how the code counts.
TIMED = "Timed: billed in 15-minute units under the day's minute total."
UNTIMED = "Untimed: one unit per day, whatever the minutes."

_EVAL_COMPLEXITY = (
    "Complexity is chosen from the documented history, examination, presentation and "
    "decision-making, not from the minutes spent."
)
_ONE_EVAL = "Only one evaluation or re-evaluation code is billed per discipline per day."

CODE_TEXT: dict[str, CodeText] = {
    # Therapeutic procedures, timed
    "97110": CodeText(
        "Exercise the clinician prescribes and progresses to fix a body-level impairment: "
        f"muscle strength, stamina, joint motion or flexibility. {TIMED}",
        (
            "Balance, coordination, posture and body-awareness retraining is 97112.",
            "Whole functional tasks such as lifting, carrying or transfers are 97530.",
            "Exercise practised inside a self-care routine (dressing, bathing) is 97535.",
            "Several patients treated at once is 97150.",
        ),
    ),
    "97112": CodeText(
        "Retraining movement control: balance, coordination, posture and the sense of where "
        f"the body is, often after a stroke or other neurological injury. {TIMED}",
        (
            "Strength, stamina or range-of-motion exercise is 97110.",
            "Training the walking pattern itself is 97116.",
            "Whole functional tasks (lifting, transfers, bed mobility) are 97530.",
            "Balance work done inside a bathing or dressing routine is 97535.",
        ),
    ),
    "97116": CodeText(
        "Teaching the patient to walk better: the walking pattern, speed, turns, stairs and "
        f"use of a walker, cane or crutches, with the clinician cueing and correcting. {TIMED}",
        (
            "Standing balance work that is not walking itself is 97112.",
            "Transfers and bed mobility as functional practice are 97530.",
            "Getting around shops, streets or public transport for a return to the community "
            "is 97537.",
            "Wheelchair propulsion and skills are 97542.",
        ),
    ),
    "97140": CodeText(
        "Treatment done with the clinician's hands: moving or manipulating joints, working "
        f"soft tissue, stretching by hand, or hand drainage of lymphoedema. {TIMED}",
        (
            "Traction given by a machine is 97012; compression by a pump is 97016.",
            "Exercise the patient performs actively is 97110.",
            "NCCI pairs 97140 with 97530 (modifier indicator 1): bill both only when done in "
            "separate 15-minute blocks, with 59 or an X modifier.",
            "With a PT evaluation (97161-97163) the same day, 97140 also needs a "
            "distinct-service modifier.",
        ),
    ),
    "97150": CodeText(
        "One clinician treating two or more patients at the same time, each working on their "
        "own activity. Untimed: one unit per day for each patient in the group, whatever the "
        "minutes.",
        (
            "One-on-one time with a single patient uses the individual code (97110, 97530, "
            "97535 and so on).",
            "Caregivers of several patients trained together, patients absent, is 97552.",
            "Group minutes never count toward the day's timed total.",
        ),
    ),
    "97530": CodeText(
        "Task-based movement practice, such as lifting, carrying, reaching, bending, "
        "transfers and bed mobility, to improve how the patient performs whole functional "
        f"tasks that are not tied to one daily-living routine. {TIMED}",
        (
            "The same movement taught inside a self-care routine (a toilet transfer while "
            "toileting, a tub transfer while bathing) is 97535.",
            "Isolated exercise for strength, stamina or motion is 97110.",
            "Tasks aimed at getting back to the community or to work are 97537.",
            "NCCI pairs 97140 with 97530 (modifier indicator 1): only in separate time blocks, "
            "with 59 or an X modifier.",
        ),
    ),
    "97533": CodeText(
        "Sensory integration: one-on-one activities that help the patient take in and organise "
        "touch, movement and body-position input so they can respond to everyday demands. "
        f"{TIMED}",
        (
            "Balance or coordination retraining without a sensory-processing goal is 97112.",
            "Time spent practising a daily routine (dressing, feeding) is 97535, even when "
            "sensory strategies are used within it; code the main purpose of the time.",
            "Task-based movement practice without a sensory goal is 97530.",
        ),
    ),
    "97535": CodeText(
        "Teaching the patient, face to face and with any caregiver alongside, to manage "
        "daily living at home: dressing, bathing, toileting, meals, home safety, energy "
        "conservation and using adaptive equipment; also each new or revised home program. "
        f"{TIMED}",
        (
            "Training a caregiver with the patient absent is 97550-97552, not 97535.",
            "Exercise for strength or endurance is 97110; task-based movement practice not "
            "tied to an ADL routine is 97530.",
            "Community and work reintegration (shopping, transport, job tasks) is 97537.",
            "Transfer training inside a toileting or bathing routine is 97535.",
        ),
    ),
    "97537": CodeText(
        "Training for life outside the home: getting around the community, public transport, "
        "shopping, handling money, hobbies, and returning to a job (job tasks and changes to "
        f"the workplace). {TIMED}",
        (
            "Tasks inside the home (dressing, bathing, cooking, home safety) are 97535.",
            "Task-based movement practice not aimed at a community or work goal is 97530.",
            "Walking practice focused on the walking pattern itself is 97116.",
        ),
    ),
    "97542": CodeText(
        "Getting the patient safely using a wheelchair: checking and fitting the chair, and "
        "training propulsion, manoeuvring, brakes and parts, and getting in and out. "
        f"{TIMED}",
        (
            "Wheelchair transfers practised as part of toileting or bathing are 97535.",
            "Transfers as general functional practice are 97530.",
            "Assessing other assistive technology (communication devices, computer access) "
            "is 97755.",
        ),
    ),
    "97750": CodeText(
        "A formal, measured test of physical performance, such as a functional capacity "
        f"evaluation, with the results and what they mean written up. {TIMED}",
        (
            "Tests done as part of an evaluation or re-evaluation belong to 97161-97168 and "
            "are not billed again.",
            "Routine measurements taken during treatment are part of the treatment code.",
            "Assessment for assistive technology is 97755.",
        ),
    ),
    "97755": CodeText(
        "Assessing whether and how a piece of assistive technology, such as a communication "
        "device, computer access or environmental controls, lets the patient do what they "
        f"need, with the findings written up. {TIMED}",
        (
            "Teaching the patient to use adaptive equipment in daily routines is 97535.",
            "Wheelchair assessment and fitting is 97542.",
            "Fitting an orthosis is 97760; a prosthesis, 97761.",
        ),
    ),
    "97760": CodeText(
        "The first encounter for an orthosis (splint or brace) of the arm, leg or trunk: "
        "checking the need, fitting it, and teaching the patient to put it on, wear it and "
        f"look after it. {TIMED}",
        (
            "Later encounters for the same orthosis are 97763.",
            "A prosthesis (artificial limb) is 97761 the first time, 97763 afterwards.",
            "Practising daily routines once the orthosis is in use is 97535.",
        ),
    ),
    "97761": CodeText(
        "The first encounter for training with a prosthesis (artificial limb): putting it on "
        f"and off, skin checks, and using the limb in functional tasks. {TIMED}",
        (
            "Later encounters for the same prosthesis are 97763.",
            "Orthoses (splints, braces) are 97760 the first time.",
            "Training the walking pattern with the prosthesis is 97116.",
        ),
    ),
    "97763": CodeText(
        "Follow-up care for an orthosis or prosthesis already fitted: checking fit, adjusting "
        f"and progressing the patient's use of it at a later encounter. {TIMED}",
        (
            "The first encounter is 97760 for an orthosis and 97761 for a prosthesis.",
            "Training daily routines with the device in use is 97535.",
        ),
    ),
    # Caregiver training, patient absent
    "97550": CodeText(
        "Training a caregiver, with the patient not there, in how to help the patient with "
        "daily tasks, mobility, communication, feeding and safety under the plan of care. "
        "Caregiver code: reported once for the first 30 minutes of the session (about 16 "
        "minutes needed to report it, unverified); exists from 2024-01-01.",
        (
            "With the patient present and taking part, training is 97535 (or another "
            "treatment code), not 97550.",
            "Each further 15 minutes of the same session is the add-on 97551.",
            "Caregivers of several different patients trained together is 97552; the code "
            "follows the number of patients represented, not of caregivers.",
            "Document the patient's consent and the link to the plan of care.",
        ),
    ),
    "97551": CodeText(
        "Add-on to 97550 for caregiver-only training that runs past the first 30 minutes. "
        "Caregiver code: one unit for each further 15 minutes (about 8 minutes needed for the "
        "last one, unverified); exists from 2024-01-01.",
        (
            "Never billed without 97550 for the same session.",
            "With the patient present, the time is 97535 or another treatment code.",
            "Group caregiver sessions are 97552 and have no add-on.",
        ),
    ),
    "97552": CodeText(
        "Caregiver training given to the caregivers of two or more patients together, with "
        f"the patients not there; exists from 2024-01-01. {UNTIMED}",
        (
            "Caregivers of one patient only, patient absent, is 97550 (+97551).",
            "With the patients present, group treatment is 97150.",
            "Code choice follows the number of patients represented, not of caregivers.",
        ),
    ),
    # Physical therapy evaluations
    "97161": CodeText(
        "First physical therapy evaluation of low complexity: few personal factors or other "
        "conditions affecting the plan, a steady presentation and simple decision-making; "
        f"ends in a plan of care. {UNTIMED}",
        (
            _EVAL_COMPLEXITY,
            "Moderate complexity is 97162 and high is 97163; reassessing an existing plan is "
            "97164.",
            _ONE_EVAL,
        ),
    ),
    "97162": CodeText(
        "First physical therapy evaluation of moderate complexity: some personal factors or "
        "other conditions affecting the plan, a changing presentation and moderate "
        f"decision-making; ends in a plan of care. {UNTIMED}",
        (
            _EVAL_COMPLEXITY,
            "Low complexity is 97161 and high is 97163; reassessing an existing plan is 97164.",
            _ONE_EVAL,
        ),
    ),
    "97163": CodeText(
        "First physical therapy evaluation of high complexity: many personal factors or "
        "other conditions affecting the plan, an unstable or unpredictable presentation and "
        f"complex decision-making; ends in a plan of care. {UNTIMED}",
        (
            _EVAL_COMPLEXITY,
            "Low complexity is 97161 and moderate is 97162; reassessing an existing plan is "
            "97164.",
            _ONE_EVAL,
        ),
    ),
    "97164": CodeText(
        "Physical therapy re-evaluation of a patient already on a plan of care, done when a "
        "new finding, a significant change or a lack of response calls for revising the plan. "
        f"{UNTIMED}",
        (
            "A first evaluation is 97161-97163.",
            "A routine progress report (at least every 10 treatment days) is not a "
            "re-evaluation and is not billed on its own.",
            "NCCI pairs 97164 with treatment codes such as 97530 (modifier indicator 1): "
            "both on one day need a distinct-service modifier.",
        ),
    ),
    # Occupational therapy evaluations
    "97165": CodeText(
        "First occupational therapy evaluation of low complexity: a brief occupational "
        "profile, few performance problems and simple decision-making; ends in a plan of "
        f"care. {UNTIMED}",
        (
            _EVAL_COMPLEXITY,
            "Moderate complexity is 97166 and high is 97167; reassessing an existing plan is "
            "97168.",
            _ONE_EVAL,
        ),
    ),
    "97166": CodeText(
        "First occupational therapy evaluation of moderate complexity: a fuller occupational "
        "profile, several performance problems and decision-making that weighs a few "
        f"options; ends in a plan of care. {UNTIMED}",
        (
            _EVAL_COMPLEXITY,
            "Low complexity is 97165 and high is 97167; reassessing an existing plan is 97168.",
            _ONE_EVAL,
        ),
    ),
    "97167": CodeText(
        "First occupational therapy evaluation of high complexity: a detailed occupational "
        "profile, many performance problems and decision-making that weighs many options; "
        f"ends in a plan of care. {UNTIMED}",
        (
            _EVAL_COMPLEXITY,
            "Low complexity is 97165 and moderate is 97166; reassessing an existing plan is "
            "97168.",
            _ONE_EVAL,
        ),
    ),
    "97168": CodeText(
        "Occupational therapy re-evaluation of a patient already on a plan of care, done when "
        "a new finding, a significant change or a lack of response calls for revising the "
        f"plan. {UNTIMED}",
        (
            "A first evaluation is 97165-97167.",
            "A routine progress report (at least every 10 treatment days) is not a "
            "re-evaluation and is not billed on its own.",
            "NCCI pairs the re-evaluation with some treatment codes (modifier indicator 1): "
            "both on one day need a distinct-service modifier.",
        ),
    ),
    # Supervised modalities, untimed
    "97010": CodeText(
        "Heat or ice packs applied to a body area without constant attendance; Medicare "
        f"bundles it into other services (status B). {UNTIMED}",
        (
            "For Medicare, do not bill it on its own line; other payers may pay it.",
            "Paraffin is 97018; alternating hot and cold water immersion is 97034.",
            "Its minutes never count toward the day's timed total.",
        ),
    ),
    "97012": CodeText(
        "Traction of the neck or lower back given by a machine, set up and checked by the "
        f"clinician. {UNTIMED}",
        (
            "Traction given with the clinician's hands is 97140 (timed).",
            "Its minutes never count toward the day's timed total.",
        ),
    ),
    "97014": CodeText(
        "Electrical stimulation that runs without the clinician staying with the patient; not "
        f"valid for Medicare (status I), which pays G0283 instead. {UNTIMED}",
        (
            "For Medicare, bill G0283; some other payers still accept 97014.",
            "Stimulation that needs the clinician present the whole time is 97032 (timed).",
            "Medication driven through the skin by current is 97033.",
        ),
    ),
    "97016": CodeText(
        "A pneumatic pump that squeezes a limb in cycles to reduce swelling. " + UNTIMED,
        (
            "Hand drainage of lymphoedema is 97140 (timed).",
            "A cold pack on its own is 97010.",
        ),
    ),
    "97018": CodeText(
        "Dipping a hand or foot in warm paraffin wax to heat stiff or painful joints. " + UNTIMED,
        (
            "Heat or ice packs are 97010.",
            "Alternating hot and cold water immersion is 97034 (timed).",
        ),
    ),
    "97022": CodeText(
        "Treatment in a whirlpool of moving warm water, set up without constant attendance. "
        + UNTIMED,
        (
            "A full-body tank with the clinician attending is 97036 (timed).",
            "Alternating hot and cold water immersion is 97034 (timed).",
        ),
    ),
    "97024": CodeText(
        "Deep heating of tissue with electromagnetic energy (for example shortwave or "
        f"microwave). {UNTIMED}",
        (
            "Ultrasound, with the clinician attending, is 97035 (timed).",
            "Surface heat from an infrared lamp is 97026; heat packs are 97010.",
        ),
    ),
    "97026": CodeText(
        "Surface heating of a body area with an infrared lamp. " + UNTIMED,
        (
            "Heat packs are 97010; deep heating is 97024.",
            "Ultraviolet light treatment is 97028.",
        ),
    ),
    "97028": CodeText(
        "Treatment of the skin with ultraviolet light. " + UNTIMED,
        (
            "Infrared heat is 97026.",
            "Its minutes never count toward the day's timed total.",
        ),
    ),
    "G0283": CodeText(
        "Medicare's code for electrical stimulation that runs without the clinician staying "
        "with the patient, when the purpose is not wound care and it is part of a therapy "
        f"plan of care. {UNTIMED}",
        (
            "Bill G0283, not 97014, to Medicare; some other payers want 97014.",
            "Stimulation that needs the clinician present the whole time is 97032 (timed).",
            "Medication driven through the skin by current is 97033.",
        ),
    ),
    # Constant-attendance modalities, timed
    "97032": CodeText(
        "Electrical stimulation where the clinician stays with the patient the whole time, "
        f"adjusting it as the patient works. {TIMED}",
        (
            "Stimulation left running unattended is G0283 for Medicare, 97014 for others.",
            "Medication driven through the skin by current is 97033.",
            "Count only the minutes the clinician is actually attending.",
        ),
    ),
    "97033": CodeText(
        "Iontophoresis: pushing a medication through the skin with a small electrical "
        f"current, with the clinician in attendance. {TIMED}",
        (
            "Stimulation for muscle or pain without medication is 97032 (attended) or "
            "G0283/97014 (unattended).",
            "Set-up and clean-up time does not count toward the minutes.",
        ),
    ),
    "97034": CodeText(
        "Contrast baths: moving a limb between hot and cold water, with the clinician in "
        f"attendance. {TIMED}",
        (
            "Heat or ice packs are 97010; warm wax is 97018; a whirlpool is 97022.",
            "Set-up and clean-up time does not count toward the minutes.",
        ),
    ),
    "97035": CodeText(
        "Therapeutic ultrasound applied by the clinician, who stays with the patient "
        f"throughout. {TIMED}",
        (
            "Deep heating with electromagnetic energy is 97024 (untimed).",
            "Medication driven through the skin by current is 97033.",
            "Count only the minutes the ultrasound is actually delivered.",
        ),
    ),
    "97036": CodeText(
        "Treatment in a full-body immersion tank, with the clinician in attendance. " + TIMED,
        (
            "A whirlpool for a limb or part of the body, not attended, is 97022 (untimed).",
            "Set-up and clean-up time does not count toward the minutes.",
        ),
    ),
    # Speech-language pathology
    "92507": CodeText(
        "One-on-one speech-language treatment of speech, language, voice, communication or "
        f"listening problems. {UNTIMED}",
        (
            "Swallowing and oral feeding treatment is 92526.",
            "Training a caregiver with the patient absent is 97550-97552.",
            "Its minutes never count toward the day's timed total.",
        ),
    ),
    "92526": CodeText(
        "Treatment of swallowing problems and oral feeding skills, by a speech-language "
        f"pathologist or an occupational therapist. {UNTIMED}",
        (
            "Speech, language, voice or communication treatment is 92507.",
            "Teaching self-feeding with adaptive utensils as part of a meal routine is 97535.",
        ),
    ),
}
