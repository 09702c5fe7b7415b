"""The demo cases' assessments, management plans and monitoring (data only), by story key.

Each story of ``btam.cases.demo_stories`` with assessments names its plan in ``PLANS``: those of
cases that reached monitoring are in ``demo_plans_monitored.py``, the others here. The case player
(``btam.cases.demo``) plays it through the real actions with ``btam.assessments.demo``, which also
says what a plan is made of.
Moments are fractions of the case's life, as in the stories (0: opened; 1: its last activity, or
its closure); people are account keys as there ("manager": the case manager; someone who cannot
work the case is replaced by the manager). Each plan matches its case's stage:

- screening: at most a screening checklist in progress;
- evaluation: a decision tree or themes assessment in progress (two members' contributions), and
  one decision at a top level waiting for the leader's approval;
- management: a decided assessment (one decision differs from the suggestion, with its reason;
  one has a dissent), the interventions the level requires and some it suggests, with owners, a
  task linked to an intervention, written safety plans;
- monitoring: check-ins (one raising a concern), the reassessment schedule (overdue on some, due
  within the week on others) and reassessments, one changing the level;
- closed: decided assessments and ended interventions with their outcomes.

Every text is invented and plainly fictitious: the student, the classmate, never a name.
"""

from __future__ import annotations

from btam.assessments.demo import (
    CHECKLIST,
    CONCERN,
    EVALUATE,
    NO_CONCERN,
    NOT_YET_KNOWN,
    PLAN,
    RESOLVE,
    RESPOND,
    SAFETY,
    SERIOUS,
    THEMES,
    TREE,
    CasePlan,
    Decision,
    DemoAssessment,
    DemoIntervention,
    Evidence,
    LinkedTask,
    Save,
)
from btam.assessments.demo_plans_monitored import MONITORED

# Cases in management, evaluation or screening now, or closed before monitoring.
CURRENT: dict[str, CasePlan] = {
    # Management -------------------------------------------------------------------------------------
    "former-girlfriend": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.14,
                (
                    Save(0.15, {EVALUATE: "intent-or-unclear"}),
                    Save(0.25, {RESPOND: "hurt-without-weapon"}, by="sro"),
                ),
                Decision(
                    0.36,
                    "moderate",
                    "Continuing intent toward one person (repeated messages, waiting after school) and a grievance "
                    "(the breakup). No weapon access found, no plan or date. Moderate: a management plan is needed.",
                    dissent=(
                        0.38,
                        "sro",
                        "I would put this at high: he still waits near her route home, and the messages went on "
                        "for two weeks after she asked him to stop.",
                    ),
                ),
            ),
        ),
        interventions=(
            DemoIntervention(
                "parent-conference",
                0.38,
                "Meet both families, one at a time.",
                ended=0.45,
                outcome="Both families agreed to a written no-contact agreement.",
            ),
            DemoIntervention(
                "schedule-change",
                0.38,
                "Change schedules so the two students do not share 4th period.",
                ended=0.45,
                outcome="Done: no shared class since the change.",
            ),
            DemoIntervention(
                "target-protection-plan",
                0.4,
                "Tell the student who was threatened and her parents what the school does; a safe route to the bus.",
                owner="sro",
                active=0.42,
                task=LinkedTask("Walk the route to the bus with the student who was threatened", 0.8, "sro"),
            ),
            DemoIntervention(
                "safety-plan",
                0.4,
                "A written plan for the student who sent the messages: no contact, where he waits after school, "
                "whom he goes to.",
                active=0.5,
            ),
            DemoIntervention(
                "supervision-check-in", 0.5, "Weekly check-in with the student who was threatened.", active=0.55
            ),
        ),
        safety_plan={
            "warning_signs": "Messages to her again, waiting near her route home, talk about the dance.",
            "supervision": "The student checks in with the counselor on Mondays; staff at the east exit after school.",
            "trusted_adults": "The school counselor and the assistant principal.",
            "restrictions": "No contact with her in person, online or through friends; he leaves by the west exit.",
            "target_protection": "She leaves by the east exit with a staff member in sight; her parents know whom "
            "to call.",
            "parent_role": "His father signed the no-contact agreement and checks his phone use with him.",
        },
        safety_plan_at=0.5,
    ),
    "moved-conflict": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.14,
                (Save(0.18, SERIOUS),),
                Decision(
                    0.36,
                    "low",
                    "Intent to fight one student, no weapon, no plan beyond a fight; the families cooperate. Low: "
                    "the underlying conflict can be resolved.",
                    override="The threat is of a fist fight over a basketball game, without a weapon or a plan; "
                    "both families cooperate and agreed to a mediation. Ordinary support can resolve it: low, not "
                    "moderate.",
                ),
            ),
        ),
        interventions=(
            DemoIntervention(
                "parent-conference",
                0.38,
                "Meet both families with the assistant principal.",
                ended=0.42,
                outcome="Both families agreed to a mediation.",
            ),
            DemoIntervention(
                "resource-connection",
                0.8,
                "Introduce the student to the high school's mentor program.",
                owner="counselor",
            ),
            DemoIntervention(
                "wellness-check",
                0.82,
                "A check on how the student is settling in at the high school.",
                owner="counselor",
                active=0.85,
            ),
        ),
    ),
    "pocketknife": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.14,
                (
                    Save(
                        0.18,
                        {
                            EVALUATE: "intent-or-unclear",
                            RESPOND: "kill-weapon-serious-injury",
                            SAFETY: "precautions-taken",
                            PLAN: "plan-pending",
                        },
                    ),
                ),
                Decision(
                    0.36,
                    "moderate",
                    "A knife brought to school and threats after teasing; no injury, remorse shown, the family "
                    "cooperates. Moderate, with a safety plan.",
                    override="A small folding knife taken from home, never shown or used against anyone; a 5th "
                    "grader's threats after daily teasing, with remorse, and the knives at home now locked away. "
                    "The team judges moderate, with a safety plan, rather than high.",
                ),
            ),
        ),
        interventions=(
            DemoIntervention(
                "parent-conference",
                0.38,
                "Meet the parents about the knife and the plan.",
                ended=0.42,
                outcome="The parents came in the same day; the grandfather's knives are locked away.",
            ),
            DemoIntervention(
                "safety-plan",
                0.4,
                "A written plan: a morning bag check, supervised recess, his trusted adults.",
                active=0.5,
            ),
            DemoIntervention("supervision-check-in", 0.44, "Daily check-in with the school counselor.", active=0.46),
            DemoIntervention(
                "target-protection-plan",
                0.46,
                "Tell the parents of the children he named what the school does; recess supervised.",
                active=0.5,
            ),
        ),
        safety_plan={
            "warning_signs": "Teasing at recess; he goes quiet, then angry.",
            "supervision": "Bag check with the principal at arrival; an adult near him at recess.",
            "trusted_adults": "His class teacher and the school counselor.",
            "restrictions": "No knives or tools in his bag; he stays with his class at recess.",
            "target_protection": "The children he named play on the other side of the yard, with an adult nearby.",
            "parent_role": "The parents check his bag in the morning; the knives at home stay locked away.",
        },
        safety_plan_at=0.5,
    ),
    "replica-gun": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.14,
                (
                    Save(0.16, {EVALUATE: "intent-or-unclear", RESPOND: "not-sure"}),
                    Save(0.3, {SAFETY: "precautions-taken", PLAN: "plan-pending"}),
                ),
                Decision(
                    0.36,
                    "high",
                    "The 'gun' was a replica, but the student has talked about revenge on staff and shows interest "
                    "in past attacks. High until the plan is in place.",
                ),
            ),
        ),
        interventions=(
            DemoIntervention(
                "law-enforcement-referral",
                0.15,
                "Consult the police liaison about the object in the video.",
                ended=0.2,
                outcome="The object is an airsoft replica; no police action.",
            ),
            DemoIntervention(
                "parent-conference",
                0.38,
                "Meet the student and his mother about the video and the plan.",
                ended=0.42,
                outcome="His mother agreed to the plan and to the team talking with his therapist.",
            ),
            DemoIntervention(
                "mental-health-evaluation",
                0.38,
                "With consent, work with the student's outside therapist.",
                active=0.45,
            ),
            DemoIntervention(
                "safety-plan",
                0.4,
                "A written plan: arrival check-in, bags in the office, his trusted adults.",
                active=0.45,
            ),
            DemoIntervention(
                "supervision-check-in",
                0.4,
                "Weekly meeting with a mentor; check-in at arrival every day.",
                active=0.45,
                task=LinkedTask("Ask the mentor for a note after each weekly meeting", 0.7, due="soon"),
            ),
            DemoIntervention(
                "community-protection",
                0.5,
                "Staff who know him look at his public posts each week.",
                active=0.52,
            ),
        ),
        safety_plan={
            "warning_signs": "Talk about revenge on staff; posts about past attacks; isolating himself at lunch.",
            "supervision": "Check-in with the front office at arrival; his bag stays in the office until dismissal.",
            "trusted_adults": "His mentor and the assistant principal.",
            "restrictions": "No replica or toy weapons at school or in posts about the school.",
            "parent_role": "His mother keeps the replica locked away and tells the mentor about hard days.",
        },
        safety_plan_at=0.47,
    ),
    # Evaluation -----------------------------------------------------------------------------------
    "list-of-names": CasePlan(
        assessments=(
            DemoAssessment(
                THEMES,
                0.2,
                (
                    Save(
                        0.25,
                        {
                            "motives": Evidence(
                                CONCERN,
                                "Wrote down six students who laughed at him after a presentation; says he wrote it "
                                "'to get it out'.",
                                "Interview with the student (assistant principal present)",
                            ),
                            "communications": Evidence(
                                CONCERN,
                                "A list titled 'people who will pay' in his notebook, seen by a classmate.",
                                "The report and the interview",
                            ),
                            "stressors": Evidence(
                                CONCERN,
                                "His grandfather died in the fall; grades dropped in two classes.",
                                "Records review and the mother",
                            ),
                            "emotional-developmental": Evidence(NOT_YET_KNOWN),
                        },
                    ),
                    Save(
                        0.5,
                        {
                            "weapon-access": Evidence(
                                NOT_YET_KNOWN,
                                "The mother says there are no firearms at home; the father is not asked yet.",
                                "Home visit (SRO)",
                            ),
                            "interest-in-weapons-attacks": Evidence(
                                NO_CONCERN,
                                "Public accounts looked at with the parents' consent: nothing about the list or "
                                "weapons.",
                                "Review of public accounts (SRO)",
                            ),
                        },
                        by="sro",
                    ),
                ),
            ),
            DemoAssessment(
                TREE,
                0.55,
                (
                    Save(
                        0.6,
                        {
                            EVALUATE: "intent-or-unclear",
                            RESPOND: "not-sure",
                            SAFETY: "precautions-pending",
                            PLAN: "plan-pending",
                        },
                    ),
                ),
                Decision(
                    0.9,
                    "high",
                    "A written list of six students 'who will pay', a grievance after being laughed at, a recent "
                    "loss and withdrawal; access to weapons not yet confirmed. High until the people named are "
                    "protected and the safety evaluation is complete.",
                ),
            ),
        ),
        interventions=(
            DemoIntervention(
                "target-protection-plan",
                0.6,
                "Tell the students named on the list and their parents; a trusted adult for each.",
                active=0.65,
            ),
        ),
    ),
    "breakup-messages": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.3,
                (Save(0.35, {EVALUATE: "expression-only"}), Save(0.6, {RESOLVE: "not-resolved"}, by="leader")),
            ),
        ),
    ),
    "drawings": CasePlan(
        assessments=(
            DemoAssessment(
                THEMES,
                0.4,
                (
                    Save(
                        0.45,
                        {
                            "communications": Evidence(
                                CONCERN,
                                "Drawings of people being hurt, with two teachers' names next to them.",
                                "The report and the notebook",
                            ),
                            "stressors": Evidence(
                                CONCERN,
                                "Angry at two teachers over grades; a family loss in 6th grade.",
                                "Interview and records review",
                            ),
                        },
                    ),
                    Save(
                        0.8,
                        {
                            "interest-in-weapons-attacks": Evidence(NOT_YET_KNOWN),
                            "trusted-adult": Evidence(
                                NO_CONCERN,
                                "Talks readily with the school psychologist.",
                                "Interview with the school psychologist",
                            ),
                        },
                    ),
                ),
            ),
        ),
    ),
    # Closed before monitoring (from evaluation, from management) -----------------------------------
    "home-statements": CasePlan(
        assessments=(
            DemoAssessment(
                THEMES,
                0.2,
                (
                    Save(
                        0.25,
                        {
                            "motives": Evidence(
                                CONCERN,
                                "Angry at one classmate who mocks him; wants him to 'feel bad too'.",
                                "Interview with the student and his mother",
                            ),
                            "communications": Evidence(
                                CONCERN,
                                "Said several times at home that he wants to 'hurt' the classmate; nothing said or "
                                "done at school.",
                                "Call from the mother",
                            ),
                            "stressors": Evidence(
                                CONCERN, "His parents separated this year; sad and angry about it.", "The mother"
                            ),
                        },
                    ),
                    Save(
                        0.35,
                        {
                            "weapon-access": Evidence(
                                NO_CONCERN, "No weapons in either parent's home, the mother says.", "The mother"
                            ),
                            "interest-in-weapons-attacks": Evidence(
                                NO_CONCERN,
                                "No drawings, searches or talk about weapons or attacks.",
                                "Class teacher and the mother",
                            ),
                            "trusted-adult": Evidence(
                                NO_CONCERN,
                                "Trusts the school counselor and his grandmother.",
                                "Interview with the student",
                            ),
                            "openness-to-help": Evidence(
                                NO_CONCERN, "He and his mother ask for outside help.", "Meeting with the family"
                            ),
                        },
                    ),
                ),
                Decision(
                    0.5,
                    "low",
                    "Statements at home about one classmate, tied to the parents' separation and to teasing; no "
                    "plan, no weapon, nothing at school, and a family asking for help. Low: a referral to community "
                    "mental health fits better than a school plan.",
                ),
            ),
        ),
        interventions=(
            DemoIntervention(
                "parent-conference",
                0.5,
                "Meet the mother with the school counselor about a referral.",
                ended=0.55,
                outcome="The mother agreed to the referral and signed the consent.",
            ),
            DemoIntervention(
                "mental-health-evaluation",
                0.55,
                "Referral to the county's community mental health service, with the mother's consent.",
                active=0.6,
                ended=0.9,
                outcome="Referral accepted and the first appointments held; the counselor keeps in touch with the "
                "family.",
            ),
        ),
    ),
    "expulsion-threats": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.14,
                (Save(0.2, SERIOUS),),
                Decision(
                    0.36,
                    "moderate",
                    "Continuing anger at staff and statements about revenge for his expulsion; no weapon access "
                    "found, no plan. Moderate: a management plan with weekly check-ins.",
                ),
            ),
        ),
        interventions=(
            DemoIntervention(
                "parent-conference",
                0.38,
                "Meet the student's aunt, his guardian.",
                ended=0.44,
                outcome="The aunt supports weekly meetings with the counselor and will call if anything changes.",
            ),
            DemoIntervention(
                "safety-plan",
                0.39,
                "A written plan: check-in at arrival, never alone in the front office, the adults he may go to.",
                active=0.45,
                ended=0.9,
                stopped=True,
                outcome="Stopped: the family moved out of state before the plan's first review.",
            ),
            DemoIntervention(
                "supervision-check-in",
                0.44,
                "Weekly meeting with the school counselor.",
                active=0.46,
                ended=0.9,
                stopped=True,
                outcome="Three meetings held; stopped when the student left the district.",
            ),
        ),
    ),
    # Screening ----------------------------------------------------------------------------------------
    "gaming-chat": CasePlan(
        assessments=(
            DemoAssessment(
                CHECKLIST,
                0.3,
                (
                    Save(
                        0.35,
                        {
                            "immediate-danger": "no",
                            "exact-words": "Wrote twice in an online game chat that he is going to 'shoot up' the "
                            "school if people keep kicking him from the group.",
                            "threat-communicated": "yes",
                            "target-identified": "yes",
                            "resolved-on-the-spot": "not-resolved",
                        },
                    ),
                    Save(
                        0.6,
                        {"weapon-involved": "unknown", "weapon-access": "unknown", "plan-described": "no"},
                        by="sro",
                    ),
                ),
            ),
        ),
    ),
    "end-a-teacher": CasePlan(
        assessments=(
            DemoAssessment(
                CHECKLIST,
                0.5,
                (
                    Save(
                        0.55,
                        {
                            "immediate-danger": "no",
                            "exact-words": "After getting a test back, told his table he wants to 'end' his science "
                            "teacher; two students heard it.",
                            "threat-communicated": "yes",
                            "target-identified": "yes",
                        },
                    ),
                ),
            ),
        ),
    ),
}

PLANS: dict[str, CasePlan] = {**MONITORED, **CURRENT}
